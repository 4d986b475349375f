//! The lazy expression behind a raster: a tree evaluated block by block,
//! fused (one pass per block, no whole-band temporaries).

use super::RasterError;
use super::grid::Window;
use super::source::BandSource;
use crate::validity::{is_valid, or_missing};
use cleope_sandbox::Cancel;
use std::sync::Arc;

/// Operations on one value. A missing value stays missing, and a result
/// that would be infinite is missing too (see [`crate::validity`]):
/// logarithms of values ≤ 0 (a GRD's zero border in `db()`) and overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    Negate,
    Abs,
    Sqrt,
    Log10,
    Ln,
    Exp,
    /// `10 * log10(x)`: linear power to decibels.
    Decibel,
    /// 1 where the value is valid, else 0 (never NaN).
    IsValid,
    /// 1 where the value is 0, else 0.
    Not,
}

/// Operations on two values. Comparisons give 1 or 0; a missing (or
/// infinite) input gives a missing result, and so does an overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
    Min,
    Max,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
    And,
    Or,
}

/// A node of the expression, evaluated in its raster's own pixel space.
#[derive(Debug, Clone)]
pub enum Node {
    /// A band of a file; pixel (0, 0) of the raster is (`col`, `row`) of the band.
    Band {
        source: Arc<BandSource>,
        col: usize,
        row: usize,
    },
    Constant(f32),
    Unary(Unary, Arc<Node>),
    Binary(Binary, Arc<Node>, Arc<Node>),
    /// Where the condition is non-zero the first value, else the second;
    /// NaN where the condition is NaN.
    Choose(Arc<Node>, Arc<Node>, Arc<Node>),
    /// The node seen through a window: pixel (0, 0) is (`col`, `row`) of `node`.
    Shift {
        node: Arc<Node>,
        col: usize,
        row: usize,
    },
    /// Values held in memory (built by a script), row by row.
    Memory(Arc<MemoryBand>),
    /// A per-pixel summary across aligned layers (a time stack), ignoring invalid values.
    Reduce(Reduction, Vec<Arc<Node>>),
    /// 1 where the pixel centre is inside a polygon, else 0.
    Inside(Arc<super::mask::PolygonMask>),
    /// A bit test on a band's stored words, before any conversion to
    /// float (which merges the low bits of large flags): 1 where any bit of
    /// `mask` is set, 0 where none is, missing where the word is the fill
    /// value. Pixel (0, 0) is (`col`, `row`) of the band.
    FlagTest {
        source: Arc<BandSource>,
        col: usize,
        row: usize,
        mask: u32,
    },
}

/// Per-pixel summaries across the layers of a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    Mean,
    Median,
    Min,
    Max,
    /// Population standard deviation.
    Std,
    Sum,
    /// How many layers have a value at the pixel.
    Count,
}

impl Reduction {
    /// Summarises one pixel's values (missing ones already removed).
    fn apply(self, values: &mut [f32]) -> f32 {
        if values.is_empty() {
            return if self == Reduction::Count {
                0.0
            } else {
                f32::NAN
            };
        }
        let n = values.len() as f32;
        match self {
            Reduction::Count => n,
            Reduction::Sum => values.iter().sum(),
            Reduction::Mean => values.iter().sum::<f32>() / n,
            Reduction::Min => values.iter().copied().fold(f32::INFINITY, f32::min),
            Reduction::Max => values.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            Reduction::Std => {
                let mean = values.iter().sum::<f32>() / n;
                (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt()
            }
            Reduction::Median => {
                values.sort_by(f32::total_cmp);
                let middle = values.len() / 2;
                if values.len() % 2 == 1 {
                    values[middle]
                } else {
                    (values[middle - 1] + values[middle]) / 2.0
                }
            }
        }
    }
}

/// A band of values in native memory, charged to the memory budget.
#[derive(Debug)]
pub struct MemoryBand {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f32>,
    pub _charge: cleope_sandbox::MemoryCharge,
}

impl MemoryBand {
    /// Copies `window` into `out`, taking the nearest pixel when decimating.
    fn read(&self, window: Window, (out_width, out_height): (usize, usize), out: &mut [f32]) {
        for y in 0..out_height {
            let row = window.row + y * window.height / out_height;
            for x in 0..out_width {
                let col = window.col + x * window.width / out_width;
                out[y * out_width + x] = self.values[row * self.width + col];
            }
        }
    }
}

impl Unary {
    fn apply(self, x: f32) -> f32 {
        let logarithm = |log: fn(f32) -> f32| if x > 0.0 { log(x) } else { f32::NAN };
        let result = match self {
            Unary::Negate => -x,
            Unary::Abs => x.abs(),
            Unary::Sqrt => x.sqrt(),
            Unary::Log10 => logarithm(f32::log10),
            Unary::Ln => logarithm(f32::ln),
            Unary::Exp => x.exp(),
            Unary::Decibel => logarithm(|x| 10.0 * x.log10()),
            Unary::IsValid => f32::from(u8::from(is_valid(x))),
            Unary::Not if !is_valid(x) => f32::NAN,
            Unary::Not => f32::from(u8::from(x == 0.0)),
        };
        or_missing(result)
    }
}

impl Binary {
    fn apply(self, a: f32, b: f32) -> f32 {
        let truth = |t: bool| {
            if !is_valid(a) || !is_valid(b) {
                f32::NAN
            } else {
                f32::from(u8::from(t))
            }
        };
        let result = match self {
            Binary::Add => a + b,
            Binary::Subtract => a - b,
            Binary::Multiply => a * b,
            // Division by zero is a missing value, not an infinity on a map.
            Binary::Divide if b == 0.0 => f32::NAN,
            Binary::Divide => a / b,
            Binary::Power => a.powf(b),
            Binary::Min => a.min(b),
            Binary::Max => a.max(b),
            Binary::Less => truth(a < b),
            Binary::LessOrEqual => truth(a <= b),
            Binary::Greater => truth(a > b),
            Binary::GreaterOrEqual => truth(a >= b),
            Binary::Equal => truth(a == b),
            Binary::NotEqual => truth(a != b),
            Binary::And => truth(a != 0.0 && b != 0.0),
            Binary::Or => truth(a != 0.0 || b != 0.0),
        };
        or_missing(result)
    }
}

impl Node {
    /// How many block-sized buffers evaluating this node needs at once
    /// (for charging the memory budget before a block is evaluated).
    pub fn buffers(&self) -> usize {
        match self {
            Node::Band { .. } | Node::Constant(_) | Node::Memory(_) | Node::Inside(_) => 1,
            // The words, and the values made of them.
            Node::FlagTest { .. } => 2,
            Node::Unary(_, a) | Node::Shift { node: a, .. } => a.buffers(),
            Node::Binary(_, a, b) => a.buffers().max(b.buffers() + 1),
            Node::Choose(c, a, b) => c.buffers().max(a.buffers() + 1).max(b.buffers() + 2),
            Node::Reduce(_, layers) => {
                layers.len() + layers.iter().map(|l| l.buffers()).max().unwrap_or(0)
            }
        }
    }

    /// The files the expression reads.
    pub fn sources(&self) -> Vec<Arc<BandSource>> {
        match self {
            Node::Band { source, .. } | Node::FlagTest { source, .. } => vec![Arc::clone(source)],
            Node::Constant(_) | Node::Memory(_) | Node::Inside(_) => Vec::new(),
            Node::Unary(_, a) | Node::Shift { node: a, .. } => a.sources(),
            Node::Binary(_, a, b) => [a.sources(), b.sources()].concat(),
            Node::Choose(c, a, b) => [c.sources(), a.sources(), b.sources()].concat(),
            Node::Reduce(_, layers) => layers.iter().flat_map(|l| l.sources()).collect(),
        }
    }

    /// Evaluates `window` (in this node's pixel space) into `out`, which
    /// holds `out_size` pixels: the window itself, or a decimated version.
    /// Reads from files stop when `cancel` says the run must.
    pub fn eval(
        &self,
        window: Window,
        out_size: (usize, usize),
        out: &mut [f32],
        cancel: &Cancel,
    ) -> Result<(), RasterError> {
        match self {
            Node::Band { source, col, row } => {
                source.read(window.offset(*col, *row), out_size, out, cancel)
            }
            Node::Constant(value) => {
                out.fill(*value);
                Ok(())
            }
            Node::FlagTest {
                source,
                col,
                row,
                mask,
            } => {
                let mut words = vec![0u32; out.len()];
                source.read_words(window.offset(*col, *row), out_size, &mut words, cancel)?;
                let fill = source
                    .nodata
                    .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n))
                    .map(|n| n as u32);
                for (x, &word) in out.iter_mut().zip(&words) {
                    *x = if Some(word) == fill {
                        f32::NAN
                    } else {
                        f32::from(u8::from(word & mask != 0))
                    };
                }
                Ok(())
            }
            Node::Memory(band) => {
                band.read(window, out_size, out);
                Ok(())
            }
            Node::Inside(mask) => {
                mask.eval(window, out_size, out);
                Ok(())
            }
            Node::Reduce(reduction, layers) => {
                let mut planes = Vec::with_capacity(layers.len());
                for layer in layers {
                    let mut plane = vec![0.0; out.len()];
                    layer.eval(window, out_size, &mut plane, cancel)?;
                    planes.push(plane);
                }
                let mut pixel = Vec::with_capacity(layers.len());
                for (i, x) in out.iter_mut().enumerate() {
                    pixel.clear();
                    pixel.extend(planes.iter().map(|p| p[i]).filter(|&v| is_valid(v)));
                    *x = reduction.apply(&mut pixel);
                }
                Ok(())
            }
            Node::Shift { node, col, row } => {
                node.eval(window.offset(*col, *row), out_size, out, cancel)
            }
            Node::Unary(op, a) => {
                a.eval(window, out_size, out, cancel)?;
                out.iter_mut().for_each(|x| *x = op.apply(*x));
                Ok(())
            }
            Node::Binary(op, a, b) => {
                a.eval(window, out_size, out, cancel)?;
                let mut right = vec![0.0; out.len()];
                b.eval(window, out_size, &mut right, cancel)?;
                out.iter_mut()
                    .zip(&right)
                    .for_each(|(x, &y)| *x = op.apply(*x, y));
                Ok(())
            }
            Node::Choose(condition, a, b) => {
                condition.eval(window, out_size, out, cancel)?;
                let mut first = vec![0.0; out.len()];
                let mut second = vec![0.0; out.len()];
                a.eval(window, out_size, &mut first, cancel)?;
                b.eval(window, out_size, &mut second, cancel)?;
                for ((x, &y), &z) in out.iter_mut().zip(&first).zip(&second) {
                    *x = if !is_valid(*x) {
                        f32::NAN
                    } else if *x != 0.0 {
                        y
                    } else {
                        z
                    };
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_give_masks_and_keep_missing_values() {
        assert_eq!(Binary::Greater.apply(2.0, 1.0), 1.0);
        assert_eq!(Binary::Greater.apply(0.0, 1.0), 0.0);
        assert!(Binary::Greater.apply(f32::NAN, 1.0).is_nan());
        assert!(Binary::Divide.apply(1.0, 0.0).is_nan());
        assert_eq!(Unary::IsValid.apply(f32::NAN), 0.0);
        assert_eq!(Unary::Decibel.apply(100.0), 20.0);
    }

    #[test]
    fn reductions_skip_missing_values() {
        let layers: Vec<Arc<Node>> = [1.0, f32::NAN, 4.0, 3.0]
            .iter()
            .map(|&v| Arc::new(Node::Constant(v)))
            .collect();
        let expected = [
            (Reduction::Mean, 8.0 / 3.0),
            (Reduction::Median, 3.0),
            (Reduction::Min, 1.0),
            (Reduction::Max, 4.0),
            (Reduction::Sum, 8.0),
            (Reduction::Count, 3.0),
        ];
        for (reduction, value) in expected {
            let mut out = [0.0; 2];
            Node::Reduce(reduction, layers.clone())
                .eval(Window::full(2, 1), (2, 1), &mut out, &Cancel::default())
                .unwrap();
            assert!((out[0] - value).abs() < 1e-6, "{reduction:?}: {}", out[0]);
        }
        let mut out = [0.0; 1];
        let none = vec![Arc::new(Node::Constant(f32::NAN))];
        Node::Reduce(Reduction::Mean, none)
            .eval(Window::full(1, 1), (1, 1), &mut out, &Cancel::default())
            .unwrap();
        assert!(out[0].is_nan());
    }

    #[test]
    fn a_fused_expression_evaluates_without_files() {
        let two = Arc::new(Node::Constant(2.0));
        let three = Arc::new(Node::Constant(3.0));
        let sum = Node::Binary(Binary::Add, two, Arc::clone(&three));
        let chosen = Node::Choose(Arc::new(sum), three, Arc::new(Node::Constant(0.0)));
        let mut out = vec![0.0; 6];
        chosen
            .eval(Window::full(3, 2), (3, 2), &mut out, &Cancel::default())
            .unwrap();
        assert_eq!(out, [3.0; 6]);
        assert_eq!(chosen.buffers(), 3);
    }
}
