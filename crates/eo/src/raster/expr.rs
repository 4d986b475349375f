//! The lazy expression behind a raster: a tree evaluated block by block,
//! fused (one pass per block, no whole-band temporaries).

use super::RasterError;
use super::grid::Window;
use super::source::BandSource;
use crate::validity::{is_valid, or_missing};
use cleope_sandbox::Cancel;
use std::collections::{HashMap, HashSet};
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
    /// 1 where the value is one of the classes (e.g. Sentinel-2 SCL cloud
    /// classes), 0 where it is none of them, missing where it is missing.
    IsIn(Arc<Node>, Arc<[f32]>),
    /// Per pixel, the layer whose score is the lowest (or highest) among
    /// the layers where the score, and the value when there are values,
    /// are valid; ties go to the earliest layer, like numpy's `nanargmin`.
    /// Gives that layer's position (from 0), or its value in `values`.
    Pick {
        best: Extreme,
        scores: Vec<Arc<Node>>,
        values: Option<Vec<Arc<Node>>>,
    },
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

/// Which end of the scores [`Node::Pick`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extreme {
    Lowest,
    Highest,
}

/// Per-pixel summaries across the layers of a stack.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// The `p`-th percentile (0 to 100) with numpy's default ("linear")
    /// definition: position `(n - 1) p / 100` in the sorted values,
    /// interpolated between its neighbours (50 is the median).
    Percentile(f32),
}

// A percentile is never NaN ([`Reduction::percentile`] checks it), so
// equality is an equivalence.
impl Eq for Reduction {}

impl Reduction {
    /// The `p`-th percentile, with `p` between 0 and 100.
    pub fn percentile(p: f64) -> Result<Reduction, RasterError> {
        if !(0.0..=100.0).contains(&p) {
            return Err(RasterError::Invalid(format!(
                "percentile {p} is not between 0 and 100 (e.g. 25 for the lower quartile)"
            )));
        }
        Ok(Reduction::Percentile(p as f32))
    }

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
                sort_valid(values);
                let middle = values.len() / 2;
                if values.len() % 2 == 1 {
                    values[middle]
                } else {
                    (values[middle - 1] + values[middle]) / 2.0
                }
            }
            Reduction::Percentile(p) => {
                sort_valid(values);
                let position = (values.len() - 1) as f64 * f64::from(p) / 100.0;
                let below = position.floor() as usize;
                let above = (below + 1).min(values.len() - 1);
                let fraction = (position - below as f64) as f32;
                values[below] + fraction * (values[above] - values[below])
            }
        }
    }
}

/// Sorts valid values (no NaN) in place. A pixel holds one value per date,
/// a handful to a few dozen: insertion sort is the fastest there, and this
/// runs for every pixel of a composite.
fn sort_valid(values: &mut [f32]) {
    if values.len() > 32 {
        values.sort_unstable_by(f32::total_cmp);
        return;
    }
    for i in 1..values.len() {
        let value = values[i];
        let mut j = i;
        while j > 0 && values[j - 1] > value {
            values[j] = values[j - 1];
            j -= 1;
        }
        values[j] = value;
    }
}

impl Extreme {
    /// Whether `score` beats `best` (strictly: ties keep the earlier layer).
    fn beats(self, score: f32, best: f32) -> bool {
        match self {
            Extreme::Lowest => score < best,
            Extreme::Highest => score > best,
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
    /// (for charging the memory budget before a block is evaluated): its
    /// working buffers, and the kept values of the nodes it uses twice.
    pub fn buffers(&self) -> usize {
        self.working_buffers() + Memo::of(self).shared.len()
    }

    fn working_buffers(&self) -> usize {
        match self {
            Node::Band { .. } | Node::Constant(_) | Node::Memory(_) | Node::Inside(_) => 1,
            // The words, and the values made of them.
            Node::FlagTest { .. } => 2,
            Node::Unary(_, a) | Node::Shift { node: a, .. } => a.working_buffers(),
            Node::Binary(_, a, b) => a.working_buffers().max(b.working_buffers() + 1),
            Node::Choose(c, a, b) => c
                .working_buffers()
                .max(a.working_buffers() + 1)
                .max(b.working_buffers() + 2),
            Node::Reduce(_, layers) => {
                layers.len()
                    + layers
                        .iter()
                        .map(|l| l.working_buffers())
                        .max()
                        .unwrap_or(0)
            }
            Node::IsIn(a, _) => a.working_buffers(),
            Node::Pick { scores, values, .. } => {
                let layers = scores.iter().chain(values.iter().flatten());
                let deepest = layers
                    .clone()
                    .map(|l| l.working_buffers())
                    .max()
                    .unwrap_or(0);
                layers.count() + deepest
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
            Node::IsIn(a, _) => a.sources(),
            Node::Pick { scores, values, .. } => scores
                .iter()
                .chain(values.iter().flatten())
                .flat_map(|l| l.sources())
                .collect(),
        }
    }

    /// Evaluates `window` (in this node's pixel space) into `out`, which
    /// holds `out_size` pixels: the window itself, or a decimated version.
    /// Reads from files stop when `cancel` says the run must. A node the
    /// expression uses more than once (both bands of a normalized
    /// difference) is evaluated once per window and its values reused.
    pub fn eval(
        &self,
        window: Window,
        out_size: (usize, usize),
        out: &mut [f32],
        cancel: &Cancel,
    ) -> Result<(), RasterError> {
        let mut memo = Memo::of(self);
        self.eval_in(window, out_size, out, cancel, &mut memo)
    }

    /// [`Node::eval`], reusing the values of shared nodes from `memo`.
    fn eval_in(
        &self,
        window: Window,
        out_size: (usize, usize),
        out: &mut [f32],
        cancel: &Cancel,
        memo: &mut Memo,
    ) -> Result<(), RasterError> {
        let key = self as *const Node;
        if !memo.shared.contains(&key) {
            return self.eval_node(window, out_size, out, cancel, memo);
        }
        if let Some((_, values)) = memo
            .values
            .get(&key)
            .filter(|(at, _)| *at == (window, out_size))
        {
            out.copy_from_slice(values);
            return Ok(());
        }
        self.eval_node(window, out_size, out, cancel, memo)?;
        memo.values.insert(key, ((window, out_size), out.to_vec()));
        Ok(())
    }

    /// The nodes directly below this one.
    fn children(&self) -> Vec<&Arc<Node>> {
        match self {
            Node::Band { .. }
            | Node::Constant(_)
            | Node::Memory(_)
            | Node::Inside(_)
            | Node::FlagTest { .. } => Vec::new(),
            Node::Unary(_, a) | Node::Shift { node: a, .. } | Node::IsIn(a, _) => vec![a],
            Node::Binary(_, a, b) => vec![a, b],
            Node::Choose(c, a, b) => vec![c, a, b],
            Node::Reduce(_, layers) => layers.iter().collect(),
            Node::Pick { scores, values, .. } => {
                scores.iter().chain(values.iter().flatten()).collect()
            }
        }
    }

    /// Evaluates this node itself (its children through `memo`).
    fn eval_node(
        &self,
        window: Window,
        out_size: (usize, usize),
        out: &mut [f32],
        cancel: &Cancel,
        memo: &mut Memo,
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
                let planes = eval_layers(layers, window, out_size, cancel, memo)?;
                let mut pixel = Vec::with_capacity(layers.len());
                for (i, x) in out.iter_mut().enumerate() {
                    pixel.clear();
                    pixel.extend(planes.iter().map(|p| p[i]).filter(|&v| is_valid(v)));
                    *x = reduction.apply(&mut pixel);
                }
                Ok(())
            }
            Node::IsIn(a, classes) => {
                a.eval_in(window, out_size, out, cancel, memo)?;
                for x in out.iter_mut() {
                    if is_valid(*x) {
                        *x = f32::from(u8::from(classes.contains(x)));
                    }
                }
                Ok(())
            }
            Node::Pick {
                best,
                scores,
                values,
            } => {
                let scores = eval_layers(scores, window, out_size, cancel, memo)?;
                let values = match values {
                    Some(values) => Some(eval_layers(values, window, out_size, cancel, memo)?),
                    None => None,
                };
                for (i, x) in out.iter_mut().enumerate() {
                    let mut chosen: Option<(usize, f32)> = None;
                    for (layer, plane) in scores.iter().enumerate() {
                        let score = plane[i];
                        let usable = is_valid(score)
                            && values.as_ref().is_none_or(|v| is_valid(v[layer][i]));
                        if usable && chosen.is_none_or(|(_, top)| best.beats(score, top)) {
                            chosen = Some((layer, score));
                        }
                    }
                    *x = match (chosen, &values) {
                        (None, _) => f32::NAN,
                        (Some((layer, _)), None) => layer as f32,
                        (Some((layer, _)), Some(values)) => values[layer][i],
                    };
                }
                Ok(())
            }
            Node::Shift { node, col, row } => {
                node.eval_in(window.offset(*col, *row), out_size, out, cancel, memo)
            }
            Node::Unary(op, a) => {
                a.eval_in(window, out_size, out, cancel, memo)?;
                out.iter_mut().for_each(|x| *x = op.apply(*x));
                Ok(())
            }
            Node::Binary(op, a, b) => {
                a.eval_in(window, out_size, out, cancel, memo)?;
                let mut right = vec![0.0; out.len()];
                b.eval_in(window, out_size, &mut right, cancel, memo)?;
                out.iter_mut()
                    .zip(&right)
                    .for_each(|(x, &y)| *x = op.apply(*x, y));
                Ok(())
            }
            Node::Choose(condition, a, b) => {
                condition.eval_in(window, out_size, out, cancel, memo)?;
                let mut first = vec![0.0; out.len()];
                let mut second = vec![0.0; out.len()];
                a.eval_in(window, out_size, &mut first, cancel, memo)?;
                b.eval_in(window, out_size, &mut second, cancel, memo)?;
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

/// The values of the nodes an expression uses more than once, kept for
/// the window being evaluated: so `(nir - red) / (nir + red)` reads and
/// decodes each band once, not twice.
struct Memo {
    /// Nodes reached more than once from the root (not constants, which cost nothing).
    shared: HashSet<*const Node>,
    values: HashMap<*const Node, (WindowAndSize, Vec<f32>)>,
}

type WindowAndSize = (Window, (usize, usize));

impl Memo {
    fn of(root: &Node) -> Memo {
        let mut seen = HashSet::new();
        let mut shared = HashSet::new();
        let mut pending = root.children();
        while let Some(node) = pending.pop() {
            let key = Arc::as_ptr(node);
            if matches!(**node, Node::Constant(_)) {
                continue;
            }
            if seen.insert(key) {
                // Below a node met the first time; a shared node's own
                // children are evaluated once, with it.
                pending.extend(node.children());
            } else {
                shared.insert(key);
            }
        }
        Memo {
            shared,
            values: HashMap::new(),
        }
    }
}

/// Evaluates each layer over `window` into a plane of its own.
fn eval_layers(
    layers: &[Arc<Node>],
    window: Window,
    out_size: (usize, usize),
    cancel: &Cancel,
    memo: &mut Memo,
) -> Result<Vec<Vec<f32>>, RasterError> {
    let pixels = out_size.0 * out_size.1;
    layers
        .iter()
        .map(|layer| {
            let mut plane = vec![0.0; pixels];
            layer.eval_in(window, out_size, &mut plane, cancel, memo)?;
            Ok(plane)
        })
        .collect()
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
