//! The arguments many functions share, read from script values in one
//! place with one set of rules: an area (`area`, `bounds`), an options
//! map (`Options::check`) and a product (`product`).

use crate::eo::ens::EnsProduct;
use crate::eo::geometry::{Aoi, BBox};
use crate::runtime::Host;
use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};

/// What every area error's hint says a script may give.
const AREA_FORMS: &str = "give an aoi (aoi_bbox, aoi_polygon, read_aoi...), bounds \
     [lon_min, lat_min, lon_max, lat_max] in degrees (e.g. [14.8, 37.6, 15.2, 37.9]), \
     or WKT or GeoJSON text";

fn area_error(message: &str) -> Box<EvalAltResult> {
    crate::api::script_error("BadAoi", message, AREA_FORMS)
}

/// An area from a script value: an `Aoi`; bounds `[lon_min, lat_min,
/// lon_max, lat_max]` in degrees, integers or decimals; or WKT or GeoJSON
/// text. Bounds follow the rules of [`BBox::new`] (longitudes in
/// -180..180, latitudes in -90..90, each minimum below its maximum), and an
/// error names the bound at fault.
pub(crate) fn area(value: &Dynamic) -> Result<Aoi, Box<EvalAltResult>> {
    if let Some(aoi) = value.clone().try_cast::<Aoi>() {
        return Ok(aoi);
    }
    if value.is_array() {
        let [lon_min, lat_min, lon_max, lat_max] = four_numbers(value)?;
        let bbox = BBox::new(lon_min, lat_min, lon_max, lat_max)
            .map_err(|e| area_error(&e.to_string()))?;
        return Ok(Aoi::from_bbox(bbox));
    }
    if let Ok(text) = value.clone().into_immutable_string() {
        let parsed = if text.trim_start().starts_with('{') {
            Aoi::from_geojson(&text)
        } else {
            Aoi::from_wkt(&text)
        };
        return parsed.map_err(|e| area_error(&e.to_string()));
    }
    Err(area_error(&format!("{value} is not an area")))
}

/// The bounds `(lon_min, lat_min, lon_max, lat_max)` of an [`area`].
pub(crate) fn bounds(value: &Dynamic) -> Result<(f64, f64, f64, f64), Box<EvalAltResult>> {
    Ok(area(value)?.bbox().to_tuple())
}

/// The four numbers of a box `[a, b, c, d]`, integers or decimals, in
/// whatever units the caller's box is in (checked by the caller).
pub(crate) fn four_numbers(value: &Dynamic) -> Result<[f64; 4], Box<EvalAltResult>> {
    let Some(items) = value.read_lock::<rhai::Array>() else {
        return Err(area_error(&format!("{value} is not an area")));
    };
    let numbers = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_float()
                .ok()
                .or_else(|| item.as_int().ok().map(|n| n as f64))
                .ok_or_else(|| {
                    area_error(&format!(
                        "item {i} of the bounds {value} is {item}, not a number"
                    ))
                })
        })
        .collect::<Result<Vec<f64>, _>>()?;
    numbers.try_into().map_err(|numbers: Vec<f64>| {
        area_error(&format!(
            "the bounds {value} hold {} numbers, not the 4 of [lon_min, lat_min, lon_max, lat_max]",
            numbers.len()
        ))
    })
}

/// The keys an options map `#{...}` may hold.
pub(crate) struct Options;

impl Options {
    /// Refuses a map holding a key outside `known` with a `BadOption` error
    /// naming the key, the closest known key, and all of them.
    pub(crate) fn check(map: &Map, known: &[&str]) -> Result<(), Box<EvalAltResult>> {
        Options::check_as(map, known, "BadOption", "an option here")
    }

    /// [`Options::check`] with the error's kind and what a key is
    /// (`"a query key"`: "`misison` is not a query key").
    pub(crate) fn check_as(
        map: &Map,
        known: &[&str],
        kind: &str,
        what: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) else {
            return Ok(());
        };
        let list = format!("the keys are {}", known.join(", "));
        let hint = match closest(unknown, known) {
            Some(close) => format!("did you mean `{close}`? {list}"),
            None => list,
        };
        Err(crate::api::script_error(
            kind,
            &format!("`{unknown}` is not {what}"),
            &hint,
        ))
    }
}

/// The known name nearest to `typed` if it is near enough to be a typo:
/// at most a third of its letters (and at least one) changed, added,
/// removed or swapped with a neighbour (strsim's optimal string alignment),
/// ignoring case.
pub(crate) fn closest<'a>(typed: &str, known: &[&'a str]) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let allowed = (typed.chars().count() / 3).max(1);
    known
        .iter()
        .map(|name| (strsim::osa_distance(&typed, &name.to_lowercase()), *name))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// A product as a script names it.
pub(crate) enum Product {
    /// A product of the archive (or a product folder, zip or file in the
    /// workspace): from `ens_open`/`ens_find`, a catalogue `Product`, or a name.
    Ens(EnsProduct),
    /// A path as given (a file, a folder, or a `/vsizip/` member), to open
    /// as a dataset in the workspace or the archive.
    Path(String),
}

impl Product {
    /// The GDAL path to open, confined to the workspace and the archive.
    pub(crate) fn gdal_path(&self, ctx: &NativeCallContext) -> Result<String, Box<EvalAltResult>> {
        let path = match self {
            Product::Ens(ens) => ens.path().display().to_string(),
            Product::Path(path) => path.clone(),
        };
        crate::api::gdal_path(&Host::of(ctx)?.workspace(), &path)
    }

    /// The product as a handle (a path must name an existing product
    /// folder, zip or file the session may read).
    pub(crate) fn ens(self, ctx: &NativeCallContext) -> Result<EnsProduct, Box<EvalAltResult>> {
        match self {
            Product::Ens(ens) => Ok(ens),
            Product::Path(path) => {
                let real = Host::of(ctx)?
                    .workspace()
                    .resolve(&path, crate::sandbox::Access::Read)
                    .map_err(crate::api::path_error)?;
                EnsProduct::at(&real).map_err(crate::api::catalogue::ens_error)
            }
        }
    }
}

/// A product argument: an `EnsProduct`, a path (text with a `/`, or a
/// `.tif`/`.tiff` file name), or a catalogue `Product` or a product name,
/// opened through the session's archive (in Rust: whatever functions the
/// script defines, none of them is called).
pub(crate) fn product(
    ctx: &NativeCallContext,
    value: &Dynamic,
) -> Result<Product, Box<EvalAltResult>> {
    if let Some(ens) = value.clone().try_cast::<EnsProduct>() {
        return Ok(Product::Ens(ens));
    }
    if let Ok(text) = value.clone().into_immutable_string() {
        let lower = text.to_ascii_lowercase();
        if text.contains('/') || lower.ends_with(".tif") || lower.ends_with(".tiff") {
            return Ok(Product::Path(text.to_string()));
        }
    }
    crate::api::catalogue::archive_product(ctx, value).map(Product::Ens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::{Array, Engine};

    /// The script value of `code` (arrays, maps and strings as scripts write them).
    fn value(code: &str) -> Dynamic {
        Engine::new().eval::<Dynamic>(code).unwrap()
    }

    /// The (kind, message, hint) of an error from `args`.
    fn error(result: Result<impl std::fmt::Debug, Box<EvalAltResult>>) -> (String, String, String) {
        let error = *result.unwrap_err();
        let EvalAltResult::ErrorRuntime(value, _) = error else {
            panic!("{error} is not a script error");
        };
        let map = value.cast::<Map>();
        let text = |key: &str| map.get(key).map(|v| v.to_string()).unwrap_or_default();
        (text("kind"), text("message"), text("hint"))
    }

    #[test]
    fn an_area_is_an_aoi_as_it_is() {
        let aoi = Aoi::from_polygon(&[(10.0, 40.0), (11.0, 40.0), (10.0, 41.0)]).unwrap();
        let read = area(&Dynamic::from(aoi.clone())).unwrap();
        assert_eq!(read.bbox(), aoi.bbox());
        assert_eq!(read.multi_polygon(), aoi.multi_polygon());
    }

    #[test]
    fn bounds_are_integers_or_decimals_or_both() {
        for code in [
            "[10, 40, 12, 42]",
            "[10.0, 40.0, 12.0, 42.0]",
            "[10, 40.0, 12, 42.0]",
        ] {
            assert_eq!(
                bounds(&value(code)).unwrap(),
                (10.0, 40.0, 12.0, 42.0),
                "{code}"
            );
        }
    }

    #[test]
    fn an_area_is_wkt_or_geojson_text() {
        let wkt = value(r#""POLYGON((14.8 37.6, 15.2 37.6, 15.2 37.9, 14.8 37.9, 14.8 37.6))""#);
        assert_eq!(bounds(&wkt).unwrap(), (14.8, 37.6, 15.2, 37.9));
        let geojson = Dynamic::from(
            r#"{"type": "Polygon", "coordinates": [[[105, -6], [106, -6], [106, -5], [105, -5], [105, -6]]]}"#,
        );
        assert_eq!(bounds(&geojson).unwrap(), (105.0, -6.0, 106.0, -5.0));
    }

    #[test]
    fn a_bad_area_names_the_fault_and_lists_the_forms() {
        for (code, message) in [
            (
                "[10, 40, 190, 42]",
                "lon_max is 190, outside -180..180; bounds go lon_min, lat_min, lon_max, lat_max, in degrees",
            ),
            (
                "[10, -95, 12, 42]",
                "lat_min is -95, outside -90..90; bounds go lon_min, lat_min, lon_max, lat_max, in degrees",
            ),
            (
                "[12, 40, 10, 42]",
                "lon_min (12) must be less than lon_max (10); give the western edge first; \
                 a box that crosses the 180° meridian must be split into two boxes",
            ),
            (
                "[10.0, 42.0, 12.0, 42.0]",
                "lat_min (42) must be less than lat_max (42); \
                 a box needs some height: make lat_max larger than lat_min",
            ),
            (
                "[10, 40, 12]",
                "the bounds [10, 40, 12] hold 3 numbers, not the 4 of [lon_min, lat_min, lon_max, lat_max]",
            ),
            (
                r#"[10, "40", 12, 42]"#,
                r#"item 1 of the bounds [10, "40", 12, 42] is 40, not a number"#,
            ),
            ("#{ lon: 10 }", "#{\"lon\": 10} is not an area"),
        ] {
            let expected = (
                "BadAoi".to_string(),
                message.to_string(),
                AREA_FORMS.to_string(),
            );
            assert_eq!(error(area(&value(code))), expected, "{code}");
        }
    }

    #[test]
    fn text_that_is_neither_wkt_nor_geojson_is_not_an_area() {
        let (kind, _, hint) = error(area(&value(r#""somewhere nice""#)));
        assert_eq!((kind.as_str(), hint.as_str()), ("BadAoi", AREA_FORMS));
        assert!(four_numbers(&Dynamic::from(Array::new())).is_err());
    }

    fn map(keys: &[&str]) -> Map {
        keys.iter().map(|k| ((*k).into(), Dynamic::UNIT)).collect()
    }

    #[test]
    fn known_options_pass() {
        Options::check(&map(&["aoi", "mask"]), &["aoi", "mask", "log10"]).unwrap();
        Options::check(&Map::new(), &[]).unwrap();
    }

    #[test]
    fn an_unknown_option_is_named_with_the_closest_known_one() {
        let (kind, message, hint) = error(Options::check(
            &map(&["aoi", "maks"]),
            &["aoi", "mask", "log10"],
        ));
        assert_eq!(kind, "BadOption");
        assert_eq!(message, "`maks` is not an option here");
        assert_eq!(hint, "did you mean `mask`? the keys are aoi, mask, log10");
    }

    #[test]
    fn an_unknown_option_far_from_all_is_named_with_the_list() {
        let (_, message, hint) = error(Options::check(&map(&["colour"]), &["aoi", "mask"]));
        assert_eq!(message, "`colour` is not an option here");
        assert_eq!(hint, "the keys are aoi, mask");
    }

    #[test]
    fn check_as_names_its_kind_and_what_a_key_is() {
        let (kind, message, hint) = error(Options::check_as(
            &map(&["misison"]),
            &["mission", "product_type"],
            "BadQuery",
            "a query key",
        ));
        assert_eq!(kind, "BadQuery");
        assert_eq!(message, "`misison` is not a query key");
        assert_eq!(
            hint,
            "did you mean `mission`? the keys are mission, product_type"
        );
    }

    #[test]
    fn the_closest_name_allows_a_third_of_the_letters() {
        assert_eq!(closest("misison", &["mission"]), Some("mission"));
        assert_eq!(closest("maks", &["mask"]), Some("mask"));
        assert_eq!(closest("MAX_CLOUD", &["max_cloud"]), Some("max_cloud"));
        assert_eq!(closest("cmap", &["cmap2", "title"]), Some("cmap2"));
        assert_eq!(closest("x", &["y", "title"]), Some("y"));
        assert_eq!(closest("zoom", &["title", "width"]), None);
    }
}
