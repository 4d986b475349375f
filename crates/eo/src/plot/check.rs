//! Rules a published figure keeps, checked on what its layout recorded
//! (see [`Layout`](super::Layout)): readable text, nothing cut at the
//! canvas edge, every continuous map read on a titled colour bar, panels
//! wide enough to see. Tests call [`check_figure`] on every tutorial figure.
//!
//! ```
//! use cleope_eo::plot::{MapStyle, check_figure, render_map};
//! let values: Vec<f32> = (0..100).map(|v| v as f32).collect();
//! let style = MapStyle { units: "K".into(), ..MapStyle::default() };
//! let figure = render_map(&values, 10, 10, (10.0, 40.0, 11.0, 41.0), &style).unwrap();
//! assert!(check_figure(&figure).is_empty());
//! ```

use super::Figure;
use super::layout::PanelKind;

/// The smallest text a figure may use, in pixels of font size.
pub const MIN_TEXT_PX: u32 = 12;
/// How far inside the canvas every text box stays, in pixels.
pub const EDGE_PX: i32 = 2;
/// The narrowest map panel, in pixels.
pub const MIN_PANEL_PX: i32 = 200;

/// A rule a figure breaks, with what breaks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Text set below [`MIN_TEXT_PX`].
    TextTooSmall { text: String, font_px: u32 },
    /// Text touching or crossing the canvas edge (closer than [`EDGE_PX`]).
    TextAtEdge { text: String },
    /// A continuous map panel without a colour bar, or with an untitled one.
    NoColourBarTitle { panel: usize },
    /// A panel narrower than [`MIN_PANEL_PX`].
    PanelTooNarrow { panel: usize, width: i32 },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::TextTooSmall { text, font_px } => write!(
                f,
                "\"{text}\" is set at {font_px} px, below {MIN_TEXT_PX} px"
            ),
            Problem::TextAtEdge { text } => {
                write!(f, "\"{text}\" touches the edge of the canvas")
            }
            Problem::NoColourBarTitle { panel } => write!(
                f,
                "panel {} has no colour bar with a title (give units)",
                panel + 1
            ),
            Problem::PanelTooNarrow { panel, width } => write!(
                f,
                "panel {} is {width} px wide, below {MIN_PANEL_PX} px",
                panel + 1
            ),
        }
    }
}

/// The rules `figure` breaks (none for a good figure). Figures without a
/// recorded layout (charts) have only the canvas to check: no problems.
pub fn check_figure(figure: &Figure) -> Vec<Problem> {
    let (width, height) = (figure.width as i32, figure.height as i32);
    let mut problems = Vec::new();
    for text in &figure.layout.texts {
        if text.font_px < MIN_TEXT_PX {
            problems.push(Problem::TextTooSmall {
                text: text.text.clone(),
                font_px: text.font_px,
            });
        }
        let r = text.rect;
        if r.x0 < EDGE_PX || r.y0 < EDGE_PX || r.x1 > width - EDGE_PX || r.y1 > height - EDGE_PX {
            problems.push(Problem::TextAtEdge {
                text: text.text.clone(),
            });
        }
    }
    for (panel, layout) in figure.layout.panels.iter().enumerate() {
        let titled = layout.colour_bar.as_ref().is_some_and(|t| !t.is_empty());
        if layout.kind == PanelKind::Continuous && !titled {
            problems.push(Problem::NoColourBarTitle { panel });
        }
        if layout.rect.width() < MIN_PANEL_PX {
            problems.push(Problem::PanelTooNarrow {
                panel,
                width: layout.rect.width(),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::layout::{Rect, TextBox};
    use crate::plot::{MapStyle, render_map};

    fn map(style: MapStyle) -> Figure {
        let values: Vec<f32> = (0..400).map(|v| v as f32).collect();
        render_map(&values, 20, 20, (10.0, 40.0, 11.0, 41.0), &style).unwrap()
    }

    #[test]
    fn a_titled_map_keeps_the_rules() {
        let figure = map(MapStyle {
            title: "Land surface temperature".into(),
            units: "K".into(),
            geographic: true,
            ..MapStyle::default()
        });
        assert_eq!(check_figure(&figure), Vec::new());
        assert_eq!(figure.layout.panels.len(), 1);
        assert!(figure.layout.texts.iter().any(|t| t.text == "10.2° E"));
    }

    #[test]
    fn broken_rules_are_reported() {
        let mut figure = map(MapStyle::default());
        assert_eq!(
            check_figure(&figure),
            vec![Problem::NoColourBarTitle { panel: 0 }],
            "a map without units has an untitled bar"
        );
        figure.layout.texts.push(TextBox {
            text: "tiny".into(),
            font_px: 9,
            rect: Rect {
                x0: 0,
                y0: 10,
                x1: 20,
                y1: 19,
            },
        });
        figure.layout.panels[0].rect.x1 = figure.layout.panels[0].rect.x0 + 150;
        let problems = check_figure(&figure);
        assert!(problems.contains(&Problem::TextTooSmall {
            text: "tiny".into(),
            font_px: 9
        }));
        assert!(problems.contains(&Problem::TextAtEdge {
            text: "tiny".into()
        }));
        assert!(problems.contains(&Problem::PanelTooNarrow {
            panel: 0,
            width: 150
        }));
        let untitled = Problem::NoColourBarTitle { panel: 0 };
        assert!(untitled.to_string().contains("give units"));
    }
}
