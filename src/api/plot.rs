//! Figures: maps of rasters with colormaps and colour bars. Every plot is
//! shown when it is made (in a terminal it is written under
//! `output/figures/` and its path printed) and can be saved with `.save(path)`.

use crate::eo::plot::{Colormap, Figure, MapStyle, PlotError, colormap};
use crate::runtime::Host;
use crate::runtime::display::Stream;
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

/// The style a script's options ask for; colour limits from `vmin`/`vmax`,
/// or from the quantiles in `stretch` (e.g. `[0.02, 0.98]`) of `values`.
fn map_style(
    options: &Map,
    values: &[f32],
    unit: &str,
    geographic: bool,
) -> Result<MapStyle, Box<EvalAltResult>> {
    const KNOWN: &[&str] = &[
        "cmap", "title", "vmin", "vmax", "stretch", "log", "units", "width",
    ];
    if let Some(unknown) = options.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(option_error(
            unknown,
            "is not a plot option",
            &format!("the options are {}", KNOWN.join(", ")),
        ));
    }
    let cmap = text(options, "cmap").unwrap_or_else(|| "viridis".into());
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
    Ok(MapStyle {
        title: text(options, "title").unwrap_or_default(),
        colormap,
        limits,
        log: options
            .get("log")
            .is_some_and(|v| v.as_bool().unwrap_or(false)),
        units: text(options, "units").unwrap_or_else(|| unit.to_string()),
        width: width as u32,
        geographic,
    })
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

/// Shows a figure: writes it under `output/figures/` and prints where.
fn show(ctx: &NativeCallContext, figure: &Figure) -> Result<(), Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let number = host.next_figure_number();
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
    let path = format!("output/figures/{name}.png");
    crate::sandbox::files::write_bytes(&host.workspace(), &host.disk, &path, &figure.png)
        .map_err(crate::api::file_error)?;
    host.display.stream(
        Stream::Stdout,
        &format!(
            "[figure {number}] {path} ({} x {} px)\n",
            figure.width, figure.height
        ),
    );
    Ok(())
}

#[export_module]
mod plot_api {
    use super::{QUICKLOOK_PIXELS, map_style, plot_error, show};
    use crate::api::raster::raster_error;
    use crate::eo::plot::{Figure, render_map};
    use crate::eo::raster::{Compute, Raster, crs};
    use crate::runtime::Host;
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
    /// name such as `"RdYlGn"`, `"inferno"` or `"Spectral_r"`), `title`,
    /// colour limits `vmin` and `vmax` or a quantile `stretch` such as
    /// `[0.02, 0.98]`, `log: true` for a log colour scale, `units` for the
    /// colour bar, and `width` in pixels.
    ///
    /// ```rhai
    /// let nbr = matrix(50, 50, 0.3).to_raster([150.1, -35.6, 150.5, -35.2]);
    /// nbr.plot(#{ cmap: "RdYlGn", title: "NBR", vmin: -1.0, vmax: 1.0 });
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
        let (values, cols, rows) = compute
            .decimated(r, QUICKLOOK_PIXELS, QUICKLOOK_PIXELS)
            .map_err(raster_error)?;
        let geographic = crs::is_geographic(&r.grid().crs);
        let style = map_style(&options, &values, &r.unit, geographic)?;
        let figure =
            render_map(&values, cols, rows, r.grid().bounds(), &style).map_err(plot_error)?;
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
            .map(|_| ())
            .map_err(crate::api::file_error)
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
