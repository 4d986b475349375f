//! Charts: lines over time or labelled steps, box plots and histograms.

use super::map::tick_label;
use super::x_axis::XAxis;
use super::{FONT, Figure, PlotError, drawing_error, encode_png, register_fonts};
use crate::validity::is_valid_f64;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

/// Titles and size of a chart.
#[derive(Debug, Clone)]
pub struct ChartStyle {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub width: u32,
    pub height: u32,
}

/// Line colours, one per series (matplotlib's default cycle).
const SERIES_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws each named series as a line with markers, one point per label:
/// placed at its time when every label is a date (uneven sampling shows),
/// else one step per label. Missing (NaN) values break the line.
pub fn render_lines(
    labels: &[String],
    series: &[(String, Vec<f64>)],
    style: &ChartStyle,
) -> Result<Figure, PlotError> {
    if labels.is_empty() || series.iter().any(|(_, ys)| ys.len() != labels.len()) {
        return Err(PlotError::Invalid(
            "every series needs one value per label".into(),
        ));
    }
    register_fonts();
    let values = series
        .iter()
        .flat_map(|(_, ys)| ys.iter().copied())
        .filter(|&v| is_valid_f64(v));
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (low, high) = if low.is_finite() {
        pad_range(low, high)
    } else {
        (0.0, 1.0)
    };
    let (width, height) = (style.width, style.height);
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        let axis = XAxis::for_labels(labels);
        let mut chart = axis_chart(&root, &axis, (low, high), style)?;
        for (index, (name, ys)) in series.iter().enumerate() {
            let colour = SERIES_COLOURS[index % SERIES_COLOURS.len()];
            let points: Vec<(f64, f64)> = axis
                .positions
                .iter()
                .copied()
                .zip(ys.iter().copied())
                .collect();
            draw_series_line(&mut chart, &points, colour, name)?;
        }
        if series.len() > 1 || series.iter().any(|(name, _)| !name.is_empty()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font((FONT, 13))
                .draw()
                .map_err(drawing_error)?;
        }
        root.present().map_err(drawing_error)?;
    }
    Ok(Figure {
        title: style.title.clone(),
        width,
        height,
        png: encode_png(&rgb, width, height)?,
        layout: Default::default(),
    })
}

/// A chart over `axis`, with a value axis over `range`, titled and
/// labelled as `style` says.
fn axis_chart<'a, 'b>(
    root: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    axis: &XAxis,
    (low, high): (f64, f64),
    style: &ChartStyle,
) -> Result<LineChart<'a, 'b>, PlotError> {
    let x_range = TickedRange {
        range: axis.range.0..axis.range.1,
        ticks: axis.ticks.iter().map(|(position, _)| *position).collect(),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&style.title, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(15)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d(x_range, low..high)
        .map_err(drawing_error)?;
    let y_step = (high - low) / 8.0;
    chart
        .configure_mesh()
        .x_labels(axis.ticks.len())
        .x_label_formatter(&|x| axis.label_at(*x))
        .y_label_formatter(&|v| tick_label(*v, y_step))
        .x_desc(style.x_label.as_str())
        .y_desc(style.y_label.as_str())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(drawing_error)?;
    Ok(chart)
}

/// A linear f64 axis ticked where told (plotters' `WithKeyPoints` cannot be
/// given a label formatter for f64).
struct TickedRange {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for TickedRange {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (start, end): (i32, i32)) -> i32 {
        let fraction = (value - self.range.start) / (self.range.end - self.range.start);
        (f64::from(start) + fraction * f64::from(end - start)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // No light grid lines between ticks: dates have no even subdivision.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

type LineChart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<TickedRange, RangedCoordf64>>;

fn draw_series_line(
    chart: &mut LineChart,
    points: &[(f64, f64)],
    colour: RGBColor,
    name: &str,
) -> Result<(), PlotError> {
    // Split at missing values so a gap shows as a gap.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(x, y) in points {
        if is_valid_f64(y) {
            runs.last_mut().expect("runs starts non-empty").push((x, y));
        } else if !runs.last().expect("runs starts non-empty").is_empty() {
            runs.push(Vec::new());
        }
    }
    let style = ShapeStyle::from(colour).stroke_width(2);
    let mut labelled = false;
    for run in runs.into_iter().filter(|r| !r.is_empty()) {
        let line = chart
            .draw_series(LineSeries::new(run.clone(), style))
            .map_err(drawing_error)?;
        if !labelled && !name.is_empty() {
            line.label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            labelled = true;
        }
        chart
            .draw_series(run.into_iter().map(|p| Circle::new(p, 4, colour.filled())))
            .map_err(drawing_error)?;
    }
    Ok(())
}

/// Draws a histogram from bin edges (one more than the counts).
pub fn render_histogram(
    edges: &[f64],
    counts: &[u64],
    style: &ChartStyle,
) -> Result<Figure, PlotError> {
    if edges.len() != counts.len() + 1 || counts.is_empty() {
        return Err(PlotError::Invalid(
            "a histogram needs one more edge than counts".into(),
        ));
    }
    register_fonts();
    let (width, height) = (style.width, style.height);
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.05;
    let (low, high) = (edges[0], edges[edges.len() - 1]);
    let (low, high) = if high > low {
        (low, high)
    } else {
        (low - 0.5, low + 0.5)
    };
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .caption(&style.title, (FONT, 22).into_font().style(FontStyle::Bold))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(low..high, 0.0..top)
            .map_err(drawing_error)?;
        let x_step = (high - low) / 8.0;
        chart
            .configure_mesh()
            .x_label_formatter(&|v| tick_label(*v, x_step))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc(style.x_label.as_str())
            .y_desc(style.y_label.as_str())
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 14))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(drawing_error)?;
        let bars = counts.iter().enumerate().map(|(i, &n)| {
            Rectangle::new(
                [(edges[i], 0.0), (edges[i + 1], n as f64)],
                SERIES_COLOURS[0].filled(),
            )
        });
        chart.draw_series(bars).map_err(drawing_error)?;
        root.present().map_err(drawing_error)?;
    }
    Ok(Figure {
        title: style.title.clone(),
        width,
        height,
        png: encode_png(&rgb, width, height)?,
        layout: Default::default(),
    })
}

/// The five numbers a box shows: lower whisker, first quartile, median,
/// third quartile, upper whisker (whiskers at the farthest values within
/// 1.5 interquartile ranges, Tukey's rule), from the finite values.
pub fn box_numbers(values: &[f64]) -> Option<[f64; 5]> {
    let mut sorted: Vec<f64> = values
        .iter()
        .copied()
        .filter(|&v| is_valid_f64(v))
        .collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let position = q * (sorted.len() - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
    };
    let (q1, median, q3) = (quantile(0.25), quantile(0.5), quantile(0.75));
    let reach = 1.5 * (q3 - q1);
    let lower = sorted
        .iter()
        .copied()
        .find(|&v| v >= q1 - reach)
        .unwrap_or(q1);
    let upper = sorted
        .iter()
        .rev()
        .copied()
        .find(|&v| v <= q3 + reach)
        .unwrap_or(q3);
    Some([lower, q1, median, q3, upper])
}

/// Draws one box (with whiskers) per labelled group of values.
pub fn render_boxes(
    labels: &[String],
    groups: &[Vec<f64>],
    style: &ChartStyle,
) -> Result<Figure, PlotError> {
    if labels.is_empty() || labels.len() != groups.len() {
        return Err(PlotError::Invalid(
            "give one label per group of values".into(),
        ));
    }
    register_fonts();
    let boxes: Vec<Option<[f64; 5]>> = groups.iter().map(|g| box_numbers(g)).collect();
    let (low, high) = boxes
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), n| {
            (a.min(n[0]), b.max(n[4]))
        });
    let (low, high) = if low.is_finite() {
        pad_range(low, high)
    } else {
        (0.0, 1.0)
    };
    let (width, height) = (style.width, style.height);
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        let mut chart = axis_chart(&root, &XAxis::steps(labels), (low, high), style)?;
        let colour = SERIES_COLOURS[0];
        for (i, numbers) in boxes.iter().enumerate() {
            let Some([lower, q1, median, q3, upper]) = *numbers else {
                continue;
            };
            let x = i as f64;
            let outline = ShapeStyle::from(colour).stroke_width(2);
            chart
                .draw_series([Rectangle::new(
                    [(x - 0.3, q1), (x + 0.3, q3)],
                    colour.mix(0.3).filled(),
                )])
                .map_err(drawing_error)?;
            chart
                .draw_series([Rectangle::new([(x - 0.3, q1), (x + 0.3, q3)], outline)])
                .map_err(drawing_error)?;
            let lines = [
                vec![(x - 0.3, median), (x + 0.3, median)],
                vec![(x, q3), (x, upper)],
                vec![(x, q1), (x, lower)],
                vec![(x - 0.15, upper), (x + 0.15, upper)],
                vec![(x - 0.15, lower), (x + 0.15, lower)],
            ];
            chart
                .draw_series(lines.into_iter().map(|l| PathElement::new(l, outline)))
                .map_err(drawing_error)?;
        }
        root.present().map_err(drawing_error)?;
    }
    Ok(Figure {
        title: style.title.clone(),
        width,
        height,
        png: encode_png(&rgb, width, height)?,
        layout: Default::default(),
    })
}

/// A range with 5 % of room above and below (and some when flat).
fn pad_range(low: f64, high: f64) -> (f64, f64) {
    let span = if high > low {
        high - low
    } else {
        low.abs().max(1.0)
    };
    (low - span * 0.05, high + span * 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style() -> ChartStyle {
        ChartStyle {
            title: "t".into(),
            x_label: "date".into(),
            y_label: "value".into(),
            width: 600,
            height: 400,
        }
    }

    #[test]
    fn box_numbers_follow_tukey() {
        let values: Vec<f64> = (1..=9).map(f64::from).chain([100.0, f64::NAN]).collect();
        let [lower, q1, median, q3, upper] = box_numbers(&values).unwrap();
        assert_eq!((lower, q1, median, q3), (1.0, 3.25, 5.5, 7.75));
        assert_eq!(upper, 9.0, "100 is an outlier beyond 1.5 IQR");
        assert!(box_numbers(&[f64::NAN]).is_none());
        let figure = render_boxes(
            &["a".into(), "b".into()],
            &[values.clone(), vec![2.0, 3.0]],
            &style(),
        )
        .unwrap();
        assert_eq!(figure.height, 400);
        assert!(render_boxes(&["a".into()], &[], &style()).is_err());
    }

    #[test]
    fn lines_and_histograms_render_and_check_their_input() {
        let labels: Vec<String> = ["2020-01", "2020-02", "2020-03"].map(String::from).to_vec();
        let series = vec![
            ("NO2".to_string(), vec![3.0, f64::NAN, 1.0]),
            ("CO".to_string(), vec![1.0, 2.0, 3.0]),
        ];
        let figure = render_lines(&labels, &series, &style()).unwrap();
        assert_eq!((figure.width, figure.height), (600, 400));
        assert!(render_lines(&labels, &[("x".into(), vec![1.0])], &style()).is_err());
        let histogram = render_histogram(&[0.0, 1.0, 2.0], &[5, 7], &style()).unwrap();
        assert!(!histogram.png.is_empty());
        assert!(render_histogram(&[0.0, 1.0], &[5, 7], &style()).is_err());
    }
}
