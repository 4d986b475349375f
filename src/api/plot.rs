//! Figures: maps of rasters with colormaps and colour bars. Every plot is
//! shown when it is made (in a terminal it is written under
//! `output/figures/` and its path printed) and can be saved with `.save(path)`.

use crate::api::args::Options;
use crate::eo::plot::{Colormap, Figure, MapStyle, PlotError, colormap};
use crate::runtime::Host;
use crate::runtime::display::{DisplayItem, Stream};
use rhai::plugin::*;
use rhai::{FLOAT, Map};

pub fn module() -> Module {
    let mut module = exported_module!(plot_api);
    module.set_custom_type::<Figure>("Figure");
    module
}

/// Pixels a quicklook reads at most along each side.
const QUICKLOOK_PIXELS: usize = 1000;

fn plot_error(error: PlotError) -> Box<EvalAltResult> {
    crate::api::script_error("PlotError", &error.to_string(), "")
}

fn option_error(key: &str, problem: &str, hint: &str) -> Box<EvalAltResult> {
    crate::api::script_error(
        "BadOption",
        &format!("plot option `{key}`: {problem}"),
        hint,
    )
}

fn number(options: &Map, key: &str) -> Result<Option<FLOAT>, Box<EvalAltResult>> {
    match options.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_float()
            .or_else(|_| v.as_int().map(|i| i as FLOAT))
            .map(Some)
            .map_err(|_| option_error(key, "must be a number", "")),
    }
}

fn text(options: &Map, key: &str) -> Option<String> {
    options.get(key).map(|v| v.to_string())
}

/// A figure breaking the layout rules (`check_figure`: text too small or
/// at the edge, a map without a titled colour bar, a panel too narrow) gets
/// a warning, once a session, saying what to change: teachers see it while
/// writing a tutorial, and the tests run every tutorial without one.
fn warn_of_layout_problems(host: &Host, figure: &Figure) {
    let problems = crate::eo::plot::check_figure(figure);
    if let Some(first) = problems.first() {
        let more = match problems.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        host.warn_once(
            "figure-layout",
            &format!("warning: figure \"{}\": {first}{more}", figure.title),
        );
    }
}

/// Option `only: "sea"` or `"land"`: the other side of the coastline
/// becomes missing (from the Natural Earth land mask at the map's scale),
/// so a sea-surface field does not run past the coast where its grid cells
/// straddle it. Applied before the colour stretch, which then sees only the
/// side kept.
fn keep_only(
    options: &Map,
    values: &mut [f32],
    (cols, rows): (usize, usize),
    crs: &str,
    bounds: (f64, f64, f64, f64),
) -> Result<(), Box<EvalAltResult>> {
    use crate::eo::plot::basemap::{LandMask, Scale};
    let Some(side) = text(options, "only") else {
        return Ok(());
    };
    let keep_land = match side.as_str() {
        "land" => true,
        "sea" => false,
        other => {
            return Err(option_error(
                "only",
                &format!("must be \"sea\" or \"land\", not {other:?}"),
                "only: \"sea\" hides the land, only: \"land\" hides the sea",
            ));
        }
    };
    if !crate::eo::raster::crs::is_geographic(crs) {
        return Err(option_error(
            "only",
            &format!("needs a lon/lat map, and this one is in {crs}"),
            "reproject the raster to EPSG:4326 first",
        ));
    }
    let land = LandMask::at(Scale::for_extent(bounds)).grid(bounds, cols, rows);
    for (value, on_land) in values.iter_mut().zip(land) {
        if on_land != keep_land {
            *value = f32::NAN;
        }
    }
    Ok(())
}

/// The style a script's options ask for; colour limits from `vmin`/`vmax`,
/// or from the quantiles in `stretch` (e.g. `[0.02, 0.98]`) of `values`.
pub(crate) fn map_style(
    options: &Map,
    values: &[f32],
    unit: &str,
    crs: &str,
    bounds: (f64, f64, f64, f64),
) -> Result<MapStyle, Box<EvalAltResult>> {
    const KNOWN: &[&str] = &[
        "cmap",
        "title",
        "vmin",
        "vmax",
        "stretch",
        "log",
        "gamma",
        "units",
        "width",
        "overlays",
        "coastlines",
        "grid",
        "colorbar",
        "diverging",
        "center",
        "symmetric",
        "scale_bar",
        "classes",
        "only",
    ];
    let geographic = crate::eo::raster::crs::is_geographic(crs);
    Options::check_as(options, KNOWN, "BadOption", "a plot option")?;
    let centre = match (
        number(options, "center")?,
        flag(options, "diverging")? || flag(options, "symmetric")?,
    ) {
        (Some(centre), _) => Some(centre),
        (None, true) => Some(0.0),
        (None, false) => None,
    };
    // A diverging map for anomalies and differences, viridis otherwise;
    // rainbow and jet only when a script names them.
    let default_cmap = if centre.is_some() {
        "RdBu_r"
    } else {
        "viridis"
    };
    let cmap = text(options, "cmap").unwrap_or_else(|| default_cmap.into());
    let colormap = Colormap::named(&cmap).ok_or_else(|| {
        option_error(
            "cmap",
            &format!("there is no colormap \"{cmap}\""),
            &format!(
                "choose one of {} (add _r to reverse)",
                colormap::NAMES.join(", ")
            ),
        )
    })?;
    let limits = match (
        number(options, "vmin")?,
        number(options, "vmax")?,
        options.get("stretch"),
    ) {
        (Some(low), Some(high), _) => Some((low, high)),
        (None, None, Some(stretch)) => Some(stretch_limits(values, stretch)?),
        (None, None, None) => None,
        _ => {
            return Err(option_error(
                "vmin",
                "give both vmin and vmax",
                "e.g. #{ vmin: -1.0, vmax: 1.0 }",
            ));
        }
    };
    let width = number(options, "width")?.unwrap_or(900.0);
    if !(400.0..=3000.0).contains(&width) {
        return Err(option_error(
            "width",
            "must be between 400 and 3000 pixels",
            "",
        ));
    }
    let (overlays_asked, legend) = overlays(options, crs)?;
    Ok(MapStyle {
        title: text(options, "title").unwrap_or_default(),
        classes: classes(options, &colormap)?,
        colormap,
        limits,
        centre,
        gamma: match number(options, "gamma")? {
            Some(gamma) if gamma > 0.0 && gamma <= 10.0 => Some(gamma),
            Some(_) => {
                return Err(option_error(
                    "gamma",
                    "must be above 0 and at most 10",
                    "e.g. gamma: 0.5 brightens faint values",
                ));
            }
            None => None,
        },
        log: flag(options, "log")?,
        units: text(options, "units").unwrap_or_else(|| unit.to_string()),
        width: width as u32,
        geographic,
        scale_bar: flag(options, "scale_bar")?,
        colour_bar: match options.get("colorbar") {
            None => true,
            Some(value) => value
                .as_bool()
                .map_err(|_| option_error("colorbar", "must be true or false", ""))?,
        },
        overlays: [
            basemap_overlays(options, crs, bounds)?,
            graticule_overlays(options, crs, bounds)?,
            overlays_asked,
        ]
        .concat(),
        legend,
    })
}

/// A true/false option, false when absent.
fn flag(options: &Map, key: &str) -> Result<bool, Box<EvalAltResult>> {
    match options.get(key) {
        None => Ok(false),
        Some(value) => value
            .as_bool()
            .map_err(|_| option_error(key, "must be true or false", "")),
    }
}

/// The `classes` option: a legend of classes instead of a colour bar.
/// `#{ "0": ["no snow", "grey"], "1": ["snow", "white"] }` names and
/// colours values; `["water", "land"]` names the values 0, 1, … and takes
/// their colours from the colormap.
fn classes(
    options: &Map,
    colormap: &Colormap,
) -> Result<Option<Vec<crate::eo::plot::Class>>, Box<EvalAltResult>> {
    use crate::eo::plot::{Class, colour_named};
    let hint = "e.g. classes: #{ \"0\": [\"no snow\", \"grey\"], \"1\": [\"snow\", \"white\"] } \
                or classes: [\"no snow\", \"snow\"]";
    let Some(value) = options.get("classes") else {
        return Ok(None);
    };
    let entries: Vec<(f64, Dynamic)> = if let Some(map) = value.clone().try_cast::<Map>() {
        let mut entries = Vec::new();
        for (key, entry) in map {
            let value: f64 = key.trim().parse().map_err(|_| {
                option_error(
                    "classes",
                    &format!("the key \"{key}\" is not a number"),
                    hint,
                )
            })?;
            entries.push((value, entry));
        }
        entries.sort_by(|a, b| a.0.total_cmp(&b.0));
        entries
    } else if let Some(array) = value.clone().try_cast::<rhai::Array>() {
        array
            .into_iter()
            .enumerate()
            .map(|(i, entry)| (i as f64, entry))
            .collect()
    } else {
        return Err(option_error("classes", "must be a map or an array", hint));
    };
    let last = entries.len().saturating_sub(1).max(1) as f64;
    let mut result = Vec::new();
    for (i, (value, entry)) in entries.into_iter().enumerate() {
        let default_colour = colormap.at(i as f64 / last);
        let (label, colour) = match entry.clone().try_cast::<rhai::Array>().as_deref() {
            Some([label]) => (label.to_string(), default_colour),
            Some([label, colour]) => {
                let name = colour.to_string();
                let colour = colour_named(&name).ok_or_else(|| {
                    option_error(
                        "classes",
                        &format!("there is no colour \"{name}\""),
                        "use a name such as grey, white, blue, or #rrggbb",
                    )
                })?;
                (label.to_string(), colour)
            }
            Some(_) => {
                return Err(option_error(
                    "classes",
                    "has an entry that is not [name, colour]",
                    hint,
                ));
            }
            None => (entry.to_string(), default_colour),
        };
        result.push(Class {
            value,
            label,
            colour,
        });
    }
    Ok(Some(result))
}

/// The `overlays` option: an array of maps, each one of
/// `#{ aoi, color, width }` (an outline), `#{ points, color, size }`
/// (markers at `[lon, lat]` pairs or at the `x`/`y` of `components()`),
/// `#{ circles, color, width }` (the enclosing circles of `components()`),
/// `#{ footprints }` (products with a WKT `footprint`, coloured by mission)
/// or `#{ text, at: [lon, lat], color }`. `colour` spells `color` too; an
/// aoi with `fill: true` (or a fill colour) is shaded; `halo: true` puts a
/// contrasting line under an outline; a `label` adds the overlay to the
/// legend box on the map.
fn overlays(
    options: &Map,
    crs: &str,
) -> Result<
    (
        Vec<crate::eo::plot::Overlay>,
        Vec<crate::eo::plot::LegendEntry>,
    ),
    Box<EvalAltResult>,
> {
    use crate::eo::plot::{LegendEntry, Overlay, Symbol, colour_named};
    let Some(list) = options.get("overlays") else {
        return Ok((Vec::new(), Vec::new()));
    };
    let hint = "each overlay is a map such as #{ aoi: a, color: \"red\" }, #{ points: [[lon, lat]] }, \
                #{ circles: ships } or #{ text: \"Etna\", at: [15.0, 37.75] }";
    let items = list
        .clone()
        .try_cast::<rhai::Array>()
        .ok_or_else(|| option_error("overlays", "must be an array", hint))?;
    let to_crs = |points: Vec<(f64, f64)>| {
        crate::eo::raster::crs::lonlat_points_to(crs, &points)
            .map_err(crate::api::raster::raster_error)
    };
    let mut result = Vec::new();
    let mut legend = Vec::new();
    let named = |name: String| {
        colour_named(&name).ok_or_else(|| {
            option_error(
                "color",
                &format!("there is no colour \"{name}\""),
                "use a name such as red, yellow, cyan, white, black, or #rrggbb",
            )
        })
    };
    for item in items {
        let item = item
            .try_cast::<Map>()
            .ok_or_else(|| option_error("overlays", "holds something that is not a map", hint))?;
        let colour_name = text(&item, "color")
            .or_else(|| text(&item, "colour"))
            .unwrap_or_else(|| "red".into());
        let colour = named(colour_name)?;
        let width = number(&item, "width")?.unwrap_or(2.0).clamp(1.0, 20.0) as u32;
        let symbol = if item.contains_key("aoi") && item.contains_key("fill") {
            Symbol::Area
        } else if item.contains_key("points") {
            Symbol::Marker
        } else if item.contains_key("circles") {
            Symbol::Circle
        } else {
            Symbol::Line
        };
        if let Some(label) = text(&item, "label") {
            legend.push(LegendEntry {
                label,
                colour,
                symbol,
            });
        }
        if let Some(aoi) = item.get("aoi") {
            let aoi = crate::api::args::area(aoi)?;
            let fill = match item.get("fill") {
                None => None,
                Some(fill) => match fill.as_bool() {
                    Ok(true) => Some(colour),
                    Ok(false) => None,
                    Err(_) => Some(named(fill.to_string())?),
                },
            };
            let rings = crate::api::aoi::rings(&aoi)
                .into_iter()
                .map(&to_crs)
                .collect::<Result<Vec<_>, _>>()?;
            if fill.is_some() {
                result.push(Overlay::Polygon {
                    rings,
                    colour,
                    width,
                    fill,
                });
            } else {
                let halo = flag(&item, "halo")?;
                for points in rings {
                    result.push(Overlay::Line {
                        points,
                        colour,
                        width,
                        halo,
                    });
                }
            }
        } else if let Some(products) = item.get("footprints") {
            result.extend(footprint_overlays(products, width, &to_crs)?);
        } else if let Some(points) = item.get("points") {
            let size = number(&item, "size")?.unwrap_or(4.0).clamp(1.0, 50.0) as u32;
            result.push(Overlay::Markers {
                points: overlay_points(points, &to_crs)?,
                colour,
                size,
            });
        } else if let Some(circles) = item.get("circles") {
            result.push(Overlay::Circles {
                circles: overlay_circles(circles)?,
                colour,
                width,
            });
        } else if let Some(label) = text(&item, "text") {
            let at = item
                .get("at")
                .ok_or_else(|| option_error("at", "a text overlay needs `at: [lon, lat]`", ""))?;
            let at = overlay_points(&Dynamic::from_array(vec![at.clone()]), &to_crs)?[0];
            result.push(Overlay::Label {
                at,
                text: label,
                colour,
            });
        } else {
            return Err(option_error(
                "overlays",
                "has an entry with none of aoi, points, circles or text",
                hint,
            ));
        }
    }
    Ok((result, legend))
}

/// Coastlines (black) and borders (grey) for a map of `bounds` in `crs`:
/// on when the `coastlines` option says so, or by default for maps spanning
/// a degree or more (below that, 1:50m lines are too coarse to help).
fn basemap_overlays(
    options: &Map,
    crs: &str,
    bounds: (f64, f64, f64, f64),
) -> Result<Vec<crate::eo::plot::Overlay>, Box<EvalAltResult>> {
    use crate::eo::plot::{Overlay, basemap};
    use crate::eo::raster::crs as crs_of;
    let geographic = crs_of::is_geographic(crs);
    let lonlat = if geographic {
        bounds
    } else {
        match crs_of::bounds_to_lonlat(crs, bounds) {
            Ok(lonlat) => lonlat,
            Err(_) => return Ok(Vec::new()),
        }
    };
    let wanted = match options.get("coastlines") {
        Some(value) => value
            .as_bool()
            .map_err(|_| option_error("coastlines", "must be true or false", ""))?,
        // The 1:10m coast is drawn on maps down to 0.2° across (at 400 m
        // steps, finer maps would show its quantisation).
        None => (lonlat.2 - lonlat.0).max(lonlat.3 - lonlat.1) >= 0.2,
    };
    if !wanted {
        return Ok(Vec::new());
    }
    let mut overlays = Vec::new();
    for line in basemap::lines_near(lonlat) {
        let points = if geographic {
            line.points.clone()
        } else {
            crs_of::lonlat_points_to(crs, &line.points).map_err(crate::api::raster::raster_error)?
        };
        let colour = if line.border {
            [110, 110, 110]
        } else {
            [0, 0, 0]
        };
        overlays.push(Overlay::Line {
            points,
            colour,
            width: 1,
            // Black coastlines on a dark map show by their white halo.
            halo: !line.border,
        });
    }
    Ok(overlays)
}

/// Latitude and longitude lines (option `grid: true`) at a round spacing
/// giving three to eight lines across the map. On projected maps (UTM) they
/// are labelled at the left and bottom edges to show where the degrees are;
/// lon/lat maps need no labels, their axes already read in degrees.
fn graticule_overlays(
    options: &Map,
    crs: &str,
    bounds: (f64, f64, f64, f64),
) -> Result<Vec<crate::eo::plot::Overlay>, Box<EvalAltResult>> {
    use crate::eo::plot::Overlay;
    use crate::eo::raster::crs as crs_of;
    let wanted = match options.get("grid") {
        Some(value) => value
            .as_bool()
            .map_err(|_| option_error("grid", "must be true or false", ""))?,
        None => false,
    };
    if !wanted {
        return Ok(Vec::new());
    }
    let geographic = crs_of::is_geographic(crs);
    let (x0, y0, x1, y1) = if geographic {
        bounds
    } else {
        crs_of::bounds_to_lonlat(crs, bounds).map_err(crate::api::raster::raster_error)?
    };
    let step = [
        0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0,
    ]
    .into_iter()
    .find(|step| (x1 - x0).max(y1 - y0) / step <= 8.0)
    .unwrap_or(30.0);
    let colour = [150, 150, 150];
    let mut lines = Vec::new();
    // The label goes at the `label_at`-th point: a little inside the edge,
    // where the text is not clipped.
    let mut add = |points: Vec<(f64, f64)>,
                   label: String,
                   label_at: usize|
     -> Result<(), Box<EvalAltResult>> {
        let points = if geographic {
            points
        } else {
            crs_of::lonlat_points_to(crs, &points).map_err(crate::api::raster::raster_error)?
        };
        let at = points[label_at];
        lines.push(Overlay::Line {
            points,
            colour,
            width: 1,
            halo: false,
        });
        if !geographic {
            lines.push(Overlay::Label {
                at,
                text: label,
                colour: [90, 90, 90],
            });
        }
        Ok(())
    };
    let samples =
        |from: f64, to: f64| (0..=40).map(move |i| from + (to - from) * f64::from(i) / 40.0);
    let mut lon = (x0 / step).ceil() * step;
    while lon <= x1 {
        add(
            samples(y0, y1).map(|lat| (lon, lat)).collect(),
            format!("{lon:.2}°"),
            2,
        )?;
        lon += step;
    }
    let mut lat = (y0 / step).ceil() * step;
    while lat <= y1 {
        add(
            samples(x0, x1).map(|lon| (lon, lat)).collect(),
            format!("{lat:.2}°"),
            0,
        )?;
        lat += step;
    }
    Ok(lines)
}

/// Converts lon/lat points to the map's CRS.
type ToCrs<'a> = &'a dyn Fn(Vec<(f64, f64)>) -> Result<Vec<(f64, f64)>, Box<EvalAltResult>>;

/// Product footprints (maps with a `footprint` in WKT and a `name`),
/// coloured by mission (`mission_colour`).
fn footprint_overlays(
    products: &Dynamic,
    width: u32,
    to_crs: ToCrs,
) -> Result<Vec<crate::eo::plot::Overlay>, Box<EvalAltResult>> {
    use crate::eo::plot::Overlay;
    let bad = || {
        option_error(
            "footprints",
            "must be an array of products (maps with footprint and name)",
            "",
        )
    };
    let items = products.clone().try_cast::<rhai::Array>().ok_or_else(bad)?;
    let mut overlays = Vec::new();
    for item in items {
        let product = item.try_cast::<Map>().ok_or_else(bad)?;
        let wkt = text(&product, "footprint").ok_or_else(bad)?;
        let name = text(&product, "name").unwrap_or_default();
        let colour = crate::eo::plot::mission_colour(&name);
        let area = crate::eo::geometry::Aoi::from_wkt(&wkt).map_err(crate::api::aoi::aoi_error)?;
        for ring in crate::api::aoi::rings(&area) {
            overlays.push(Overlay::Line {
                points: to_crs(ring)?,
                colour,
                width,
                halo: false,
            });
        }
    }
    Ok(overlays)
}

/// Points given as `[lon, lat]` pairs (converted to the map's CRS) or as
/// maps with `x` and `y` already in it (as `components()` gives them).
fn overlay_points(value: &Dynamic, to_crs: ToCrs) -> Result<Vec<(f64, f64)>, Box<EvalAltResult>> {
    let bad = || {
        option_error(
            "points",
            "must be [[lon, lat], ...] or the result of components()",
            "",
        )
    };
    let items = value.clone().try_cast::<rhai::Array>().ok_or_else(bad)?;
    let as_number = |v: &Dynamic| {
        v.as_float()
            .ok()
            .or_else(|| v.as_int().ok().map(|i| i as FLOAT))
    };
    let (mut lonlat, mut native) = (Vec::new(), Vec::new());
    for item in items {
        if let Some(map) = item.clone().try_cast::<Map>() {
            let x = map.get("x").and_then(as_number).ok_or_else(bad)?;
            let y = map.get("y").and_then(as_number).ok_or_else(bad)?;
            native.push((x, y));
        } else {
            match item.try_cast::<rhai::Array>().as_deref() {
                Some([lon, lat]) => lonlat.push((
                    as_number(lon).ok_or_else(bad)?,
                    as_number(lat).ok_or_else(bad)?,
                )),
                _ => return Err(bad()),
            }
        }
    }
    native.extend(to_crs(lonlat)?);
    Ok(native)
}

fn overlay_circles(value: &Dynamic) -> Result<Vec<(f64, f64, f64)>, Box<EvalAltResult>> {
    let bad = || {
        option_error(
            "circles",
            "must be the result of components() (maps with circle_x, circle_y, radius)",
            "",
        )
    };
    let items = value.clone().try_cast::<rhai::Array>().ok_or_else(bad)?;
    let as_number = |v: &Dynamic| {
        v.as_float()
            .ok()
            .or_else(|| v.as_int().ok().map(|i| i as FLOAT))
    };
    items
        .into_iter()
        .map(|item| {
            let map = item.try_cast::<Map>().ok_or_else(bad)?;
            let get = |key: &str| map.get(key).and_then(as_number).ok_or_else(bad);
            Ok((get("circle_x")?, get("circle_y")?, get("radius")?))
        })
        .collect()
}

fn stretch_limits(values: &[f32], stretch: &Dynamic) -> Result<(f64, f64), Box<EvalAltResult>> {
    let levels: Vec<f64> = stretch.clone().into_typed_array::<FLOAT>().map_err(|_| {
        option_error(
            "stretch",
            "must be two fractions",
            "e.g. stretch: [0.02, 0.98]",
        )
    })?;
    let [low, high] = levels[..] else {
        return Err(option_error(
            "stretch",
            "must be two fractions",
            "e.g. stretch: [0.02, 0.98]",
        ));
    };
    if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) || low >= high {
        return Err(option_error(
            "stretch",
            "needs 0 <= low < high <= 1",
            "e.g. stretch: [0.02, 0.98]",
        ));
    }
    let mut finite: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return Ok((0.0, 1.0));
    }
    finite.sort_by(f32::total_cmp);
    let at = |q: f64| f64::from(finite[((finite.len() - 1) as f64 * q).round() as usize]);
    Ok((at(low), at(high)))
}

/// Shows a figure: inline where the front-end shows images (a notebook),
/// otherwise written under `output/figures/` with its path printed.
/// Tallest a single map is drawn (its height follows the area's shape).
const MAP_HEIGHT_AT_MOST: u32 = 1400;

/// Charges a figure's canvas before it is drawn: its RGB pixels, and about
/// as much again while they are encoded as PNG. Held until the figure exists.
fn charge_canvas(
    ctx: &NativeCallContext,
    (width, height): (u32, u32),
) -> Result<crate::sandbox::MemoryCharge, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let bytes = 2 * 3 * u64::from(width) * u64::from(height);
    host.memory
        .charge(bytes, &format!("a figure of {width} x {height} pixels"))
        .map_err(crate::api::breach_error)
}

fn show(ctx: &NativeCallContext, figure: &Figure) -> Result<(), Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    warn_of_layout_problems(&host, figure);
    let number = host.next_figure_number();
    let summary = format!(
        "[figure {number}] {} ({} x {} px)",
        figure.title, figure.width, figure.height
    );
    if host.display.shows_images() {
        host.display
            .display(&DisplayItem::text(summary).with_png(figure.png.clone()));
        return Ok(());
    }
    let slug: String = figure
        .title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let name = if slug.is_empty() {
        format!("figure-{number:02}")
    } else {
        format!("figure-{number:02}-{slug}")
    };
    // Written when the run ends, unless the script saves it by then.
    let charge = host
        .memory
        .charge(
            figure.png.len() as u64,
            &format!("figure {number}, held until the cell ends"),
        )
        .map_err(crate::api::breach_error)?;
    host.hold_figure(crate::runtime::host::UnsavedFigure {
        number,
        path: format!("output/figures/{name}.png"),
        png: figure.png.clone(),
        size: (figure.width, figure.height),
        charge,
    });
    Ok(())
}

fn chart_style(
    options: &Map,
    title: &str,
    x_label: &str,
    y_label: &str,
) -> Result<crate::eo::plot::ChartStyle, Box<EvalAltResult>> {
    let width = number(options, "width")?.unwrap_or(900.0);
    let height = number(options, "height")?.unwrap_or(500.0);
    if !(300.0..=3000.0).contains(&width) || !(200.0..=3000.0).contains(&height) {
        return Err(option_error(
            "width",
            "width and height must be 300 to 3000 pixels",
            "",
        ));
    }
    Ok(crate::eo::plot::ChartStyle {
        title: text(options, "title").unwrap_or_else(|| title.to_string()),
        x_label: text(options, "x_label").unwrap_or_else(|| x_label.to_string()),
        y_label: text(options, "y_label").unwrap_or_else(|| y_label.to_string()),
        width: width as u32,
        height: height as u32,
    })
}

/// The column(s) to draw: `y` as a name or an array of names.
fn y_columns(options: &Map) -> Result<Vec<String>, Box<EvalAltResult>> {
    match options.get("y") {
        None => Ok(vec!["mean".into()]),
        Some(value) if value.is_array() => Ok(value
            .clone()
            .cast::<rhai::Array>()
            .iter()
            .map(|v| v.to_string())
            .collect()),
        Some(value) => Ok(vec![value.to_string()]),
    }
}

fn rgb_stretch(
    options: &Map,
    default: crate::eo::plot::Stretch,
) -> Result<crate::eo::plot::Stretch, Box<EvalAltResult>> {
    use crate::eo::plot::Stretch;
    let hint = "give two quantiles such as [0.02, 0.98] (each band stretched by its own), \
                \"joint\" (one stretch for the three bands) or \"equalize\"";
    match options.get("stretch") {
        None => Ok(default),
        Some(v) if v.to_string().starts_with("equali") => Ok(Stretch::Equalise),
        Some(v) if v.to_string() == "joint" => Ok(Stretch::Joint(0.02, 0.98)),
        Some(v) => match v.clone().into_typed_array::<FLOAT>().as_deref() {
            Ok(&[low, high])
                if (0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high) && low < high =>
            {
                match default {
                    Stretch::Joint(..) => Ok(Stretch::Joint(low, high)),
                    _ => Ok(Stretch::Quantiles(low, high)),
                }
            }
            _ => Err(option_error("stretch", "is not a stretch", hint)),
        },
    }
}

/// Draws three aligned rasters as red, green and blue.
fn composite(
    ctx: &NativeCallContext,
    [red, green, blue]: [&crate::eo::raster::Raster; 3],
    options: &Map,
    default_stretch: crate::eo::plot::Stretch,
) -> Result<Figure, Box<EvalAltResult>> {
    use crate::eo::plot::{RgbStyle, render_rgb};
    use crate::eo::raster::{Compute, crs};
    Options::check_as(
        options,
        &[
            "title",
            "stretch",
            "width",
            "overlays",
            "coastlines",
            "scale_bar",
        ],
        "BadOption",
        "a plot option",
    )?;
    for other in [green, blue] {
        if !red.grid().aligns_with(other.grid()) {
            return Err(crate::api::script_error(
                "GridMismatch",
                "the three bands of a composite must be on the same grid",
                "use bands of the same resolution, or resample the coarser ones first",
            ));
        }
    }
    let host = Host::of(ctx)?;
    let compute = Compute {
        pool: &host.pool,
        budget: &host.memory,
        cancel: &host.cancel,
    };
    let mut bands = Vec::new();
    for band in [red, green, blue] {
        bands.push(
            compute
                .decimated(band, QUICKLOOK_PIXELS, QUICKLOOK_PIXELS)
                .map_err(crate::api::raster::raster_error)?,
        );
    }
    let (cols, rows) = (bands[0].1, bands[0].2);
    let (overlays_asked, legend) = overlays(options, &red.grid().crs)?;
    let style = RgbStyle {
        title: text(options, "title").unwrap_or_default(),
        stretch: rgb_stretch(options, default_stretch)?,
        width: number(options, "width")?
            .unwrap_or(900.0)
            .clamp(400.0, 3000.0) as u32,
        geographic: crs::is_geographic(&red.grid().crs),
        overlays: [
            basemap_overlays(options, &red.grid().crs, red.grid().bounds())?,
            overlays_asked,
        ]
        .concat(),
        legend,
        scale_bar: flag(options, "scale_bar")?,
    };
    let _canvas = charge_canvas(ctx, (style.width, MAP_HEIGHT_AT_MOST))?;
    let figure = render_rgb(
        [&bands[0].0, &bands[1].0, &bands[2].0],
        cols,
        rows,
        red.grid().bounds(),
        &style,
    )
    .map_err(plot_error)?;
    show(ctx, &figure)?;
    Ok(figure)
}

#[export_module]
mod plot_api {
    use super::{
        Options, QUICKLOOK_PIXELS, chart_style, composite, map_style, number, plot_error, show,
        text, y_columns,
    };
    use crate::api::raster::raster_error;
    use crate::api::script_error;
    use crate::eo::plot::Stretch;
    use crate::eo::plot::{Figure, render_map};
    use crate::eo::plot::{render_boxes, render_histogram, render_lines};
    use crate::eo::raster::{Compute, Raster};
    use crate::runtime::Host;
    use rhai::{Array, FLOAT};
    use rhai::{INT, Map};

    /// Draws a map of the raster with the default colormap (viridis), a
    /// colour bar and georeferenced axes, and shows it. Large rasters are
    /// read decimated: a map never loads the full resolution.
    ///
    /// ```rhai
    /// let r = matrix(60, 80, 1.0).to_raster([14.0, 37.0, 15.0, 38.0]);
    /// let fig = r.plot();
    /// assert(fig.width == 900, "default width");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn plot(ctx: NativeCallContext, r: &mut Raster) -> Result<Figure, Box<EvalAltResult>> {
        plot_with(ctx, r, Map::new())
    }

    /// Draws and shows a map of the raster with options: `cmap` (a colormap
    /// name such as `"viridis"` (the default), `"cividis"`, `"magma"`,
    /// `"RdYlGn"` or `"Spectral_r"`), `title`, colour limits `vmin` and
    /// `vmax` or a quantile `stretch` such as `[0.02, 0.98]` (the default:
    /// the 2–98 % quantiles of the valid pixels), `log: true` for a log colour
    /// scale, `diverging: true` or `center: 0.0` for a red-blue scale
    /// symmetric about that value (anomalies, differences), `symmetric: true`
    /// for limits ±max(|low|, |high|), `units` for the colour bar's title,
    /// `classes` for a legend of classes instead of a colour bar
    /// (`#{ "0": ["no snow", "grey"], "1": ["snow", "white"] }` or
    /// `["water", "land"]` for the values 0, 1, …; a 0/1 raster gets a
    /// two-class legend by itself), `gamma` for a power-law colour scale,
    /// `width` in pixels, `coastlines` (true or false; by default drawn on
    /// maps spanning 0.2° or more, at the Natural Earth scale of the map's
    /// extent), `only: "sea"` or `"land"` (the other side of the coast is
    /// left blank, lon/lat maps), `grid: true` for latitude/longitude
    /// lines, `scale_bar: true`, `colorbar: false` to leave out the colour
    /// bar, and `overlays`: an array of
    /// `#{ aoi, color, width }` outlines (`fill: true` shades the area,
    /// `halo: true` lines it in a contrasting colour),
    /// `#{ footprints: products }` (footprints coloured by mission),
    /// `#{ points, color, size }` markers (`[lon, lat]` pairs or
    /// `components()`), `#{ circles, color }` (the enclosing circles of
    /// `components()`) and `#{ text, at: [lon, lat] }` labels; an overlay
    /// with a `label` appears in a legend box on the map.
    ///
    /// ```rhai
    /// let nbr = matrix(50, 50, 0.3).to_raster([150.1, -35.6, 150.5, -35.2]);
    /// let burn = aoi_bbox(150.2, -35.5, 150.3, -35.4);
    /// nbr.plot(#{ cmap: "RdYlGn", title: "NBR", vmin: -1.0, vmax: 1.0,
    ///             overlays: [#{ aoi: burn, color: "black" }, #{ text: "burn scar", at: [150.2, -35.38] }] });
    /// ```
    #[rhai_fn(name = "plot", return_raw, pure)]
    pub fn plot_with(
        ctx: NativeCallContext,
        r: &mut Raster,
        options: Map,
    ) -> Result<Figure, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let compute = Compute {
            pool: &host.pool,
            budget: &host.memory,
            cancel: &host.cancel,
        };
        let (mut values, cols, rows) = compute
            .decimated(r, QUICKLOOK_PIXELS, QUICKLOOK_PIXELS)
            .map_err(raster_error)?;
        let (crs, bounds) = (&r.grid().crs, r.grid().bounds());
        keep_only(&options, &mut values, (cols, rows), crs, bounds)?;
        let style = map_style(&options, &values, &r.unit, crs, bounds)?;
        let _canvas = charge_canvas(&ctx, (style.width, MAP_HEIGHT_AT_MOST))?;
        let figure =
            render_map(&values, cols, rows, r.grid().bounds(), &style).map_err(plot_error)?;
        show(&ctx, &figure)?;
        Ok(figure)
    }

    /// Shows three aligned rasters as red, green and blue, each stretched
    /// between its 2 % and 98 % quantiles: true colour (B04, B03, B02) or
    /// false colour (e.g. B08, B04, B03 for vegetation).
    ///
    /// ```rhai
    /// let r = matrix(40, 40, 0.1).to_raster([150.0, -35.5, 150.4, -35.1]);
    /// plot_rgb(r, r * 2, r * 3);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_rgb(
        ctx: NativeCallContext,
        red: Raster,
        green: Raster,
        blue: Raster,
    ) -> Result<Figure, Box<EvalAltResult>> {
        plot_rgb_with(ctx, red, green, blue, Map::new())
    }

    /// Shows an RGB composite with options: `title`, `stretch` (two
    /// quantiles such as `[0.02, 0.98]` stretching each band by its own,
    /// `"joint"` for one stretch of the three bands together, so equal
    /// values look grey, or `"equalize"` for histogram equalisation),
    /// `width`, `scale_bar: true`, `coastlines` and `overlays` (as for `plot`).
    ///
    /// ```rhai
    /// let r = matrix(40, 40, 0.1).to_raster([150.0, -35.5, 150.4, -35.1]);
    /// plot_rgb(r, r * 2, r * 3, #{ title: "False colour", stretch: "equalize" });
    /// ```
    #[rhai_fn(name = "plot_rgb", return_raw)]
    pub fn plot_rgb_with(
        ctx: NativeCallContext,
        red: Raster,
        green: Raster,
        blue: Raster,
        options: Map,
    ) -> Result<Figure, Box<EvalAltResult>> {
        composite(
            &ctx,
            [&red, &green, &blue],
            &options,
            Stretch::Quantiles(0.02, 0.98),
        )
    }

    /// Shows a multitemporal composite of a stack of three dates of one
    /// band: the first date in red, the second in green, the third in
    /// blue. One stretch for all three (the 2–98 % quantiles of the dates
    /// together), so what stays the same is grey and what changed takes the
    /// colour of the dates it was bright in. Options as for `plot_rgb`
    /// (`stretch: [0.02, 0.98]` keeps the joint stretch between those quantiles).
    ///
    /// ```rhai
    /// let a = matrix(40, 40, 0.1).to_raster([150.0, -35.5, 150.4, -35.1]);
    /// let s = stack([a, a, a * 3.0], ["2020-01-01", "2020-01-13", "2020-01-25"]);
    /// plot_rgb(s, #{ title: "Change in January" });
    /// ```
    #[rhai_fn(name = "plot_rgb", return_raw, pure)]
    pub fn plot_rgb_stack(
        ctx: NativeCallContext,
        s: &mut crate::eo::raster::Stack,
        options: Map,
    ) -> Result<Figure, Box<EvalAltResult>> {
        let [red, green, blue] = s.layers() else {
            return Err(script_error(
                "BadValue",
                &format!(
                    "a multitemporal composite needs a stack of three dates, not {}",
                    s.layers().len()
                ),
                "make a stack of the three dates to show in red, green and blue",
            ));
        };
        composite(
            &ctx,
            [red, green, blue],
            &options,
            Stretch::Joint(0.02, 0.98),
        )
    }

    /// Shows a line chart of a table (an array of maps, e.g. a stack's
    /// `series()`), one point per row: options `x` (the column of labels,
    /// default `"date"`), `y` (a column or an array of columns, default
    /// `"mean"`), `title`, `x_label`, `y_label`, `width`, `height`. When
    /// every label is a date (`2020-03-14`, `2020-03`, `2020-03-14 10:56`),
    /// points sit at their time, so a gap between acquisitions shows.
    ///
    /// ```rhai
    /// let rows = [#{ date: "2020-01", no2: 5.1 }, #{ date: "2020-02", no2: 4.2 }, #{ date: "2020-03", no2: 2.9 }];
    /// plot_series(rows, #{ y: "no2", title: "NO2 over the city", y_label: "µmol/m²" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_series(
        ctx: NativeCallContext,
        rows: Array,
        options: Map,
    ) -> Result<Figure, Box<EvalAltResult>> {
        Options::check_as(
            &options,
            &["x", "y", "title", "x_label", "y_label", "width", "height"],
            "BadOption",
            "a plot option",
        )?;
        let x = text(&options, "x").unwrap_or_else(|| "date".into());
        let columns = y_columns(&options)?;
        let maps: Vec<Map> = rows
            .into_iter()
            .map(|row| {
                row.try_cast::<Map>().ok_or_else(|| {
                    script_error(
                        "TypeMismatch",
                        "plot_series needs an array of maps",
                        "e.g. [#{ date: \"2020-01\", mean: 1.5 }]",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let labels: Vec<String> = maps
            .iter()
            .map(|m| m.get(x.as_str()).map(|v| v.to_string()).unwrap_or_default())
            .collect();
        let series: Vec<(String, Vec<FLOAT>)> = columns
            .iter()
            .map(|column| {
                let values = maps.iter().map(|m| {
                    m.get(column.as_str())
                        .and_then(|v| {
                            v.as_float()
                                .ok()
                                .or_else(|| v.as_int().ok().map(|i| i as FLOAT))
                        })
                        .unwrap_or(FLOAT::NAN)
                });
                (column.clone(), values.collect())
            })
            .collect();
        let y_label = if columns.len() == 1 {
            columns[0].clone()
        } else {
            String::new()
        };
        let style = chart_style(&options, "", &x, &y_label)?;
        let _canvas = charge_canvas(&ctx, (style.width, style.height))?;
        let figure = render_lines(&labels, &series, &style).map_err(plot_error)?;
        show(&ctx, &figure)?;
        Ok(figure)
    }

    /// Shows the histogram of a raster's valid pixels (50 bins between its
    /// minimum and maximum).
    ///
    /// ```rhai
    /// let r = matrix(30, 30, 0.4).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// r.plot_histogram();
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn plot_histogram(
        ctx: NativeCallContext,
        r: &mut Raster,
    ) -> Result<Figure, Box<EvalAltResult>> {
        plot_histogram_with(ctx, r, Map::new())
    }

    /// Shows a histogram with options: `bins`, `range` (`[min, max]`),
    /// `title`, `x_label`, `width`, `height`.
    ///
    /// ```rhai
    /// let r = matrix(30, 30, 0.4).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// r.plot_histogram(#{ bins: 20, range: [0.0, 1.0], title: "NDVI", x_label: "NDVI" });
    /// ```
    #[rhai_fn(name = "plot_histogram", return_raw, pure)]
    pub fn plot_histogram_with(
        ctx: NativeCallContext,
        r: &mut Raster,
        options: Map,
    ) -> Result<Figure, Box<EvalAltResult>> {
        Options::check_as(
            &options,
            &["bins", "range", "title", "x_label", "width", "height"],
            "BadOption",
            "a plot option",
        )?;
        let bins = number(&options, "bins")?.unwrap_or(50.0).clamp(1.0, 1000.0) as usize;
        let range = match options.get("range") {
            None => None,
            Some(v) => match v.clone().into_typed_array::<FLOAT>().as_deref() {
                Ok([low, high]) if low < high => Some((*low, *high)),
                _ => {
                    return Err(super::option_error(
                        "range",
                        "must be [min, max] with min < max",
                        "e.g. range: [-1.0, 1.0]",
                    ));
                }
            },
        };
        let host = Host::of(&ctx)?;
        let compute = Compute {
            pool: &host.pool,
            budget: &host.memory,
            cancel: &host.cancel,
        };
        let histogram = compute.histogram(r, bins, range).map_err(raster_error)?;
        let style = chart_style(&options, "", &r.unit, "pixels")?;
        let _canvas = charge_canvas(&ctx, (style.width, style.height))?;
        let figure =
            render_histogram(&histogram.edges(), &histogram.counts, &style).map_err(plot_error)?;
        show(&ctx, &figure)?;
        Ok(figure)
    }

    /// Shows one small map per date of a stack, all on one colour scale
    /// (from `vmin`/`vmax`, or by default the 2–98 % quantiles of every
    /// date together), with the dates as panel titles, in a balanced grid
    /// whose canvas grows with the number of dates. Options as for a
    /// raster's `plot` (`width` is for single maps: each panel here is
    /// 300 to 420 pixels wide).
    ///
    /// ```rhai
    /// let jan = matrix(20, 20, 14.0).to_raster([2.0, 38.0, 6.0, 42.0]);
    /// let sst = stack([jan, jan + 3.0, jan + 8.0], ["2020-01-01", "2020-04-01", "2020-07-01"]);
    /// sst.plot(#{ cmap: "inferno", title: "Sea surface temperature", units: "°C" });
    /// ```
    #[rhai_fn(name = "plot", return_raw, pure)]
    pub fn plot_stack(
        ctx: NativeCallContext,
        s: &mut crate::eo::raster::Stack,
        options: Map,
    ) -> Result<Figure, Box<EvalAltResult>> {
        use crate::eo::plot::facets::{MAX_PANELS, Panel, facet_size, render_facets};
        if s.layers().len() > MAX_PANELS {
            return Err(plot_error(crate::eo::plot::PlotError::Invalid(format!(
                "a facet grid shows at most {MAX_PANELS} dates, not {}: plot a part of the stack",
                s.layers().len()
            ))));
        }
        let host = Host::of(&ctx)?;
        let compute = Compute {
            pool: &host.pool,
            budget: &host.memory,
            cancel: &host.cancel,
        };
        // Each date is read at up to 400 x 400 pixels, then copied once to
        // find the colour limits of all dates together.
        let _reads = host
            .memory
            .charge(
                2 * 400 * 400 * 4 * s.layers().len() as u64,
                &format!("reading {} dates for a facet grid", s.layers().len()),
            )
            .map_err(crate::api::breach_error)?;
        let mut reads = Vec::new();
        for layer in s.layers() {
            let (mut values, cols, rows) =
                compute.decimated(layer, 400, 400).map_err(raster_error)?;
            let (crs, bounds) = (&layer.grid().crs, layer.grid().bounds());
            keep_only(&options, &mut values, (cols, rows), crs, bounds)?;
            reads.push((values, cols, rows));
        }
        let everything: Vec<f32> = reads
            .iter()
            .flat_map(|(v, _, _)| v.iter().copied())
            .collect();
        let first = &s.layers()[0];
        let style = map_style(
            &options,
            &everything,
            &first.unit,
            &first.grid().crs,
            first.grid().bounds(),
        )?;
        let panels: Vec<Panel> = s
            .dates()
            .iter()
            .zip(&reads)
            .map(|(date, (values, cols, rows))| Panel {
                label: date.clone(),
                values,
                cols: *cols,
                rows: *rows,
            })
            .collect();
        let _canvas = charge_canvas(
            &ctx,
            facet_size(panels.len(), first.grid().bounds(), &style),
        )?;
        let figure = render_facets(&panels, first.grid().bounds(), &style).map_err(plot_error)?;
        show(&ctx, &figure)?;
        Ok(figure)
    }

    /// Writes an animated GIF of figures of the same size (e.g. one map per
    /// date with fixed colour limits), one second per frame, looping.
    ///
    /// ```rhai
    /// let frames = [];
    /// for t in [14.0, 18.0, 24.0] {
    ///     frames.push(matrix(20, 20, t).to_raster([2.0, 38.0, 6.0, 42.0]).plot(#{ vmin: 10.0, vmax: 30.0, title: `${t} °C` }));
    /// }
    /// animate(frames, "output/sst.gif");
    /// assert(file_exists("output/sst.gif"), "written");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn animate(
        ctx: NativeCallContext,
        figures: Array,
        path: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        animate_with_delay(ctx, figures, path, 1000)
    }

    /// Writes an animated GIF with `delay_ms` milliseconds per frame.
    ///
    /// ```rhai
    /// let f = matrix(10, 10).to_raster([0.0, 0.0, 1.0, 1.0]).plot();
    /// animate([f, f], "output/quick.gif", 250);
    /// ```
    #[rhai_fn(name = "animate", return_raw)]
    pub fn animate_with_delay(
        ctx: NativeCallContext,
        figures: Array,
        path: &str,
        delay_ms: INT,
    ) -> Result<(), Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let figures: Vec<Figure> = figures
            .into_iter()
            .map(|f| {
                f.try_cast::<Figure>().ok_or_else(|| {
                    script_error(
                        "TypeMismatch",
                        "animate needs an array of figures",
                        "collect the results of plot(...) in an array",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let frames: Vec<&Figure> = figures.iter().collect();
        let delay = u32::try_from(delay_ms.clamp(10, 60_000)).unwrap_or(1000);
        let gif = crate::eo::plot::facets::animate(&frames, delay).map_err(plot_error)?;
        crate::sandbox::files::write_bytes(&host.workspace(), &host.disk, path, &gif)
            .map(|_| ())
            .map_err(crate::api::file_error)
    }

    /// Shows a box plot per date of a stack (median, quartiles, whiskers at
    /// 1.5 interquartile ranges), from each date's valid pixels (read
    /// decimated). Options: `title`, `y_label`, `width`, `height`.
    ///
    /// ```rhai
    /// let a = matrix(10, 10, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// stack([a, a * 2, a * 3], ["2020-06", "2020-07", "2020-08"]).plot_box(#{ title: "LAI", y_label: "m²/m²" });
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn plot_box(
        ctx: NativeCallContext,
        s: &mut crate::eo::raster::Stack,
        options: Map,
    ) -> Result<Figure, Box<EvalAltResult>> {
        Options::check_as(
            &options,
            &["title", "y_label", "width", "height"],
            "BadOption",
            "a plot option",
        )?;
        let host = Host::of(&ctx)?;
        let compute = Compute {
            pool: &host.pool,
            budget: &host.memory,
            cancel: &host.cancel,
        };
        let mut groups = Vec::new();
        for layer in s.layers() {
            let (values, _, _) = compute.decimated(layer, 500, 500).map_err(raster_error)?;
            groups.push(values.into_iter().map(f64::from).collect::<Vec<f64>>());
        }
        let style = chart_style(&options, "", "date", &s.layers()[0].unit)?;
        let _canvas = charge_canvas(&ctx, (style.width, style.height))?;
        let figure = render_boxes(s.dates(), &groups, &style).map_err(plot_error)?;
        show(&ctx, &figure)?;
        Ok(figure)
    }

    /// Shows a box plot of groups of numbers (an array of arrays), with
    /// `labels` (one per group) and `title`, `y_label`, `width`, `height`.
    ///
    /// ```rhai
    /// plot_boxes([[1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 20.0]], #{ labels: ["before", "after"], title: "NO2" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_boxes(
        ctx: NativeCallContext,
        groups: Array,
        options: Map,
    ) -> Result<Figure, Box<EvalAltResult>> {
        Options::check_as(
            &options,
            &["labels", "title", "y_label", "width", "height"],
            "BadOption",
            "a plot option",
        )?;
        let groups: Vec<Vec<f64>> = groups
            .into_iter()
            .map(|g| g.into_typed_array::<FLOAT>().map_err(|_| ()))
            .collect::<Result<_, _>>()
            .map_err(|_| {
                script_error(
                    "TypeMismatch",
                    "plot_boxes needs an array of arrays of decimal numbers",
                    "e.g. [[1.0, 2.5], [3.0, 4.5]]",
                )
            })?;
        let labels: Vec<String> = match options.get("labels") {
            Some(labels) => labels
                .clone()
                .into_typed_array::<rhai::ImmutableString>()
                .map_err(|_| script_error("BadOption", "labels must be an array of strings", ""))?
                .into_iter()
                .map(|l| l.to_string())
                .collect(),
            None => (1..=groups.len()).map(|i| i.to_string()).collect(),
        };
        let style = chart_style(&options, "", "", "")?;
        let _canvas = charge_canvas(&ctx, (style.width, style.height))?;
        let figure = render_boxes(&labels, &groups, &style).map_err(plot_error)?;
        show(&ctx, &figure)?;
        Ok(figure)
    }

    /// Saves the figure as a PNG file in the workspace.
    ///
    /// ```rhai
    /// let fig = matrix(10, 10).to_raster([0.0, 0.0, 1.0, 1.0]).plot(#{ title: "zeros" });
    /// fig.save("output/zeros.png");
    /// assert(file_exists("output/zeros.png"), "saved");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn save(
        ctx: NativeCallContext,
        figure: &mut Figure,
        path: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        crate::sandbox::files::write_bytes(&host.workspace(), &host.disk, path, &figure.png)
            .map_err(crate::api::file_error)?;
        if let Some(number) = host.figure_saved(&figure.png) {
            host.display.stream(
                Stream::Stdout,
                &format!(
                    "[figure {number}] {path} ({} x {} px)\n",
                    figure.width, figure.height
                ),
            );
        }
        Ok(())
    }

    /// The figure's width in pixels.
    ///
    /// ```rhai
    /// let fig = matrix(10, 10).to_raster([0.0, 0.0, 1.0, 1.0]).plot(#{ width: 600 });
    /// assert(fig.width == 600, "as asked");
    /// ```
    #[rhai_fn(get = "width", pure)]
    pub fn width(figure: &mut Figure) -> INT {
        INT::from(figure.width)
    }

    /// The figure's height in pixels (it follows the map's shape).
    ///
    /// ```rhai
    /// let fig = matrix(10, 20).to_raster([0.0, 0.0, 2.0, 1.0]).plot();
    /// assert(fig.height < fig.width, "a wide map makes a wide figure");
    /// ```
    #[rhai_fn(get = "height", pure)]
    pub fn height(figure: &mut Figure) -> INT {
        INT::from(figure.height)
    }

    /// A short description, used by `print`.
    ///
    /// ```rhai
    /// print(matrix(10, 10).to_raster([0.0, 0.0, 1.0, 1.0]).plot(#{ title: "demo" }));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn describe(figure: &mut Figure) -> String {
        format!(
            "Figure(\"{}\", {} x {} px)",
            figure.title, figure.width, figure.height
        )
    }

    /// The same description, used by `debug`.
    ///
    /// ```rhai
    /// debug(matrix(10, 10).to_raster([0.0, 0.0, 1.0, 1.0]).plot());
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn describe_debug(figure: &mut Figure) -> String {
        describe(figure)
    }
}
