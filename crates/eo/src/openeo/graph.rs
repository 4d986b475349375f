//! A raster's expression as an openEO process graph (API 1.2).
//!
//! The expression is read bottom-up. Per-pixel maths on the bands of one
//! date stays a [`Pixel`] expression until something needs a data cube;
//! then it becomes `reduce_dimension` over `bands` whose reducer is the
//! same maths as a child graph (`array_element` for each band). A pixel
//! expression whose outermost step is a mask becomes `mask`. A stack's
//! reduction, whose layers are the same maths on different dates, becomes
//! `reduce_dimension` over `t`. Maths on cubes becomes `apply` (with a
//! number) or `merge_cubes` (with another cube). Node ids follow the
//! openEO Python client: the process id without underscores and a counter.

use super::{Collection, OpenEoError, Origin, origin_of};
use crate::raster::{Binary, Node, Raster, Reduction, Unary};
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The process graph computing `raster` and saving it in `format` (an
/// openEO output format such as `GTiff` or `netCDF`):
/// `{"process_graph": {...}}`.
pub fn translate(raster: &Raster, format: &str) -> Result<Json, OpenEoError> {
    let mut origins = Vec::new();
    leaves(raster.root(), &mut origins)?;
    let collection = one_collection(&origins)?;
    let mut translator = Translator::new(collection, &origins);
    let value = translator.value(raster.root())?;
    let cube = translator.cube(value)?;
    let saved = translator.graph.add(
        "save_result",
        json!({ "data": { "from_node": cube }, "format": format }),
    );
    Ok(json!({ "process_graph": translator.graph.finish(&saved) }))
}

/// Per-pixel maths on the bands of one date (or on none: constants).
#[derive(Debug, Clone)]
enum Pixel {
    Band {
        band: String,
        date: String,
    },
    Constant(f32),
    Unary(Unary, Box<Pixel>),
    Binary(Binary, Box<Pixel>, Box<Pixel>),
    /// Where the first is non-zero the second, else the third.
    Choose(Box<Pixel>, Box<Pixel>, Box<Pixel>),
    /// `(a - b) / (a + b)`.
    NormalizedDifference(Box<Pixel>, Box<Pixel>),
}

/// Equal maths: constants compare bit for bit, so that the missing value
/// (NaN) of two masks is the same constant (a derived `==` says NaN != NaN,
/// and every masked stack would look computed differently per date).
impl PartialEq for Pixel {
    fn eq(&self, other: &Pixel) -> bool {
        match (self, other) {
            (Pixel::Band { band, date }, Pixel::Band { band: b, date: d }) => {
                band == b && date == d
            }
            (Pixel::Constant(x), Pixel::Constant(y)) => x.to_bits() == y.to_bits(),
            (Pixel::Unary(op, a), Pixel::Unary(o, b)) => op == o && a == b,
            (Pixel::Binary(op, a, b), Pixel::Binary(o, x, y)) => op == o && a == x && b == y,
            (Pixel::Choose(c, a, b), Pixel::Choose(k, x, y)) => c == k && a == x && b == y,
            (Pixel::NormalizedDifference(a, b), Pixel::NormalizedDifference(x, y)) => {
                a == x && b == y
            }
            _ => false,
        }
    }
}

impl Pixel {
    fn children(&self) -> Vec<&Pixel> {
        match self {
            Pixel::Band { .. } | Pixel::Constant(_) => Vec::new(),
            Pixel::Unary(_, a) => vec![a],
            Pixel::Binary(_, a, b) | Pixel::NormalizedDifference(a, b) => vec![a, b],
            Pixel::Choose(c, a, b) => vec![c, a, b],
        }
    }

    /// The dates of the bands it reads, each once, in order of appearance.
    fn dates(&self) -> Vec<String> {
        let mut dates = Vec::new();
        self.visit(&mut |p| {
            if let Pixel::Band { date, .. } = p
                && !dates.contains(date)
            {
                dates.push(date.clone());
            }
        });
        dates
    }

    fn visit(&self, f: &mut impl FnMut(&Pixel)) {
        f(self);
        for child in self.children() {
            child.visit(f);
        }
    }

    /// The same maths with the dates left out (to compare a stack's layers).
    fn undated(&self) -> Pixel {
        let b = |p: &Pixel| Box::new(p.undated());
        match self {
            Pixel::Band { band, .. } => Pixel::Band {
                band: band.clone(),
                date: String::new(),
            },
            Pixel::Constant(v) => Pixel::Constant(*v),
            Pixel::Unary(op, a) => Pixel::Unary(*op, b(a)),
            Pixel::Binary(op, x, y) => Pixel::Binary(*op, b(x), b(y)),
            Pixel::Choose(c, x, y) => Pixel::Choose(b(c), b(x), b(y)),
            Pixel::NormalizedDifference(x, y) => Pixel::NormalizedDifference(b(x), b(y)),
        }
    }

    /// Where the value is zero (a mask turned round), comparisons inverted
    /// rather than wrapped.
    fn negated(self) -> Pixel {
        let inverse = |op| match op {
            Binary::Less => Some(Binary::GreaterOrEqual),
            Binary::GreaterOrEqual => Some(Binary::Less),
            Binary::LessOrEqual => Some(Binary::Greater),
            Binary::Greater => Some(Binary::LessOrEqual),
            Binary::Equal => Some(Binary::NotEqual),
            Binary::NotEqual => Some(Binary::Equal),
            _ => None,
        };
        match self {
            Pixel::Binary(op, a, b) if inverse(op).is_some() => {
                Pixel::Binary(inverse(op).expect("checked"), a, b)
            }
            other => Pixel::Unary(Unary::Not, Box::new(other)),
        }
    }

    fn is_missing(&self) -> bool {
        matches!(self, Pixel::Constant(v) if v.is_nan())
    }
}

/// A translated part of the expression.
#[derive(Debug, Clone)]
enum Value {
    Pixel(Pixel),
    /// A node of the graph giving a data cube without a `bands` dimension;
    /// `date` is its one date, or `None` once reduced over time.
    Cube {
        node: String,
        date: Option<String>,
    },
}

/// The nodes of one (child) process graph, numbered like the Python client.
#[derive(Default)]
struct Graph {
    nodes: Map<String, Json>,
    counters: HashMap<String, usize>,
}

impl Graph {
    fn add(&mut self, process_id: &str, arguments: Json) -> String {
        let prefix = process_id.replace('_', "");
        let counter = self.counters.entry(prefix.clone()).or_default();
        *counter += 1;
        let id = format!("{prefix}{counter}");
        self.nodes.insert(
            id.clone(),
            json!({ "process_id": process_id, "arguments": arguments }),
        );
        id
    }

    fn finish(mut self, result: &str) -> Json {
        if let Some(Json::Object(node)) = self.nodes.get_mut(result) {
            node.insert("result".into(), Json::Bool(true));
        }
        Json::Object(self.nodes)
    }
}

fn from_node(id: &str) -> Json {
    json!({ "from_node": id })
}

fn from_parameter(name: &str) -> Json {
    json!({ "from_parameter": name })
}

/// Every band of a collection the expression reads, or the first operation
/// that reads something else.
fn leaves(node: &Node, origins: &mut Vec<Origin>) -> Result<(), OpenEoError> {
    match node {
        Node::Band { .. } | Node::Shift { .. } => {
            if let Some(origin) = band_origin(node)? {
                origins.push(origin);
                return Ok(());
            }
            // A window of a computed raster: reported by `value`.
            if let Node::Shift { node, .. } = node {
                leaves(node, origins)?;
            }
            Ok(())
        }
        Node::Unary(_, a) => leaves(a, origins),
        Node::Binary(_, a, b) => {
            leaves(a, origins)?;
            leaves(b, origins)
        }
        Node::Choose(c, a, b) => {
            leaves(c, origins)?;
            leaves(a, origins)?;
            leaves(b, origins)
        }
        Node::Reduce(_, layers) => layers.iter().try_for_each(|l| leaves(l, origins)),
        Node::IsIn(a, _) => leaves(a, origins),
        Node::Pick { scores, values, .. } => scores
            .iter()
            .chain(values.iter().flatten())
            .try_for_each(|l| leaves(l, origins)),
        Node::Constant(_) | Node::Memory(_) | Node::Inside(_) | Node::FlagTest { .. } => Ok(()),
    }
}

/// The collection band a (windowed) band node is, `None` for a window of a
/// computed raster; an error for a band not loaded through a collection or
/// a window other than the collection's area.
fn band_origin(node: &Node) -> Result<Option<Origin>, OpenEoError> {
    let (source, offset) = match node {
        Node::Band { source, col, row } => (source, (*col, *row)),
        Node::Shift { node, col, row } => match &**node {
            Node::Band {
                source,
                col: c,
                row: r,
            } => (source, (col + c, row + r)),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let origin = origin_of(source).ok_or_else(|| {
        OpenEoError::untranslatable(
            format!(
                "reading {} directly",
                std::path::Path::new(&source.path)
                    .file_name()
                    .map_or(source.path.clone(), |n| n.to_string_lossy().into_owned())
            ),
            "a back-end cannot read the session's files: load the data with \
             collection(#{ mission, product, bands, aoi, dates }) and compute from its bands",
        )
    })?;
    if origin.offset != offset {
        return Err(OpenEoError::untranslatable(
            "a clip (window) of a collection's band",
            "give the area as the collection's aoi instead of clipping its bands",
        ));
    }
    Ok(Some(origin))
}

fn one_collection(origins: &[Origin]) -> Result<Arc<Collection>, OpenEoError> {
    let first = origins.first().ok_or_else(|| {
        OpenEoError::untranslatable(
            "a raster that reads no collection",
            "build the raster from the bands of collection(#{ ... })",
        )
    })?;
    if let Some(other) = origins.iter().find(|o| o.collection != first.collection) {
        return Err(OpenEoError::untranslatable(
            format!(
                "combining two collections ({} and {})",
                first.collection.id, other.collection.id
            ),
            "load every band you need in one collection(#{ bands: [...] })",
        ));
    }
    Ok(Arc::clone(&first.collection))
}

/// The day after an ISO date (openEO's temporal extents leave out their end).
fn day_after(date: &str) -> String {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .map_or_else(|| date.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

struct Translator {
    graph: Graph,
    collection: Arc<Collection>,
    load: String,
    /// `filter_temporal` nodes by their first and last date.
    filtered: HashMap<(String, String), String>,
}

impl Translator {
    /// Starts the graph with the collection's `load_collection`, asking for
    /// the bands the expression reads, in the order it reads them.
    fn new(collection: Arc<Collection>, origins: &[Origin]) -> Translator {
        let mut bands: Vec<&str> = Vec::new();
        for origin in origins {
            if !bands.contains(&origin.band.as_str()) {
                bands.push(&origin.band);
            }
        }
        let (west, south, east, north) = collection.bbox;
        let mut graph = Graph::default();
        let load = graph.add(
            "load_collection",
            json!({
                "id": collection.id,
                "spatial_extent": { "west": west, "south": south, "east": east, "north": north },
                "temporal_extent": [collection.dates.0, day_after(&collection.dates.1)],
                "bands": bands,
            }),
        );
        Translator {
            graph,
            collection,
            load,
            filtered: HashMap::new(),
        }
    }

    fn value(&mut self, node: &Node) -> Result<Value, OpenEoError> {
        Ok(match node {
            Node::Band { .. } | Node::Shift { .. } => match band_origin(node)? {
                Some(origin) => Value::Pixel(Pixel::Band {
                    band: origin.band,
                    date: origin.date,
                }),
                None => {
                    return Err(OpenEoError::untranslatable(
                        "a clip (window) of a computed raster",
                        "give the area as the collection's aoi instead of clipping the result",
                    ));
                }
            },
            Node::Constant(v) => Value::Pixel(Pixel::Constant(*v)),
            Node::Unary(op, a) => self.unary(*op, a)?,
            Node::Binary(op, a, b) => self.binary(*op, a, b)?,
            Node::Choose(c, a, b) => self.choose(c, a, b)?,
            Node::Reduce(reduction, layers) => self.reduce(*reduction, layers)?,
            Node::Memory(_) => {
                return Err(OpenEoError::untranslatable(
                    "values held in the session's memory (a matrix, to_raster, a detection)",
                    "a back-end cannot see them: compute the raster from collection bands only",
                ));
            }
            Node::Inside(_) => {
                return Err(OpenEoError::untranslatable(
                    "a clip to a polygon's outline",
                    "give the polygon's bounding box as the collection's aoi",
                ));
            }
            Node::FlagTest { .. } => {
                return Err(OpenEoError::untranslatable(
                    "a bit test (&) on a flag band",
                    "compare the band with class values instead, e.g. scl == 8.0",
                ));
            }
            Node::IsIn(..) => {
                return Err(OpenEoError::untranslatable(
                    "is_in (a class list test)",
                    "compare with each class instead, e.g. (scl == 8.0) | (scl == 9.0)",
                ));
            }
            Node::Pick { .. } => {
                return Err(OpenEoError::untranslatable(
                    "pick_by / argmin / argmax (a value chosen per pixel by date)",
                    "reduce the stack with min, max, median or mean instead",
                ));
            }
        })
    }

    fn unary(&mut self, op: Unary, a: &Node) -> Result<Value, OpenEoError> {
        match self.value(a)? {
            Value::Pixel(p) => Ok(Value::Pixel(Pixel::Unary(op, Box::new(p)))),
            cube => self.unary_on(op, cube),
        }
    }

    fn binary(&mut self, op: Binary, a: &Arc<Node>, b: &Arc<Node>) -> Result<Value, OpenEoError> {
        if let Some((x, y)) = normalized_difference(op, a, b) {
            let (x, y) = (self.value(x)?, self.value(y)?);
            if let (Value::Pixel(x), Value::Pixel(y)) = (&x, &y) {
                let (x, y) = (Box::new(x.clone()), Box::new(y.clone()));
                return self.pixel(Pixel::NormalizedDifference(x, y));
            }
            let difference = self.combine(Binary::Subtract, x.clone(), y.clone())?;
            let sum = self.combine(Binary::Add, x, y)?;
            return self.combine(Binary::Divide, difference, sum);
        }
        let (left, right) = (self.value(a)?, self.value(b)?);
        self.combine(op, left, right)
    }

    /// `left op right`: band maths, `apply` with a number, or `merge_cubes`.
    fn combine(&mut self, op: Binary, left: Value, right: Value) -> Result<Value, OpenEoError> {
        match (left, right) {
            (Value::Pixel(x), Value::Pixel(y)) => {
                self.pixel(Pixel::Binary(op, Box::new(x), Box::new(y)))
            }
            (cube @ Value::Cube { .. }, Value::Pixel(Pixel::Constant(v))) => {
                self.apply_with(op, cube, v, false)
            }
            (Value::Pixel(Pixel::Constant(v)), cube @ Value::Cube { .. }) => {
                self.apply_with(op, cube, v, true)
            }
            (left, right) => {
                let (x, y) = (self.cube(left)?, self.cube(right)?);
                let maths = Pixel::Binary(
                    op,
                    Box::new(Parameter::X.pixel()),
                    Box::new(Parameter::Y.pixel()),
                );
                let resolver = child_graph(&maths, Parameter::XY)?;
                let node = self.graph.add(
                    "merge_cubes",
                    json!({ "cube1": from_node(&x), "cube2": from_node(&y), "overlap_resolver": resolver }),
                );
                Ok(Value::Cube { node, date: None })
            }
        }
    }

    /// A pixel expression, refused when it mixes the bands of two dates.
    fn pixel(&self, pixel: Pixel) -> Result<Value, OpenEoError> {
        let dates = pixel.dates();
        if dates.len() > 1 {
            return Err(OpenEoError::untranslatable(
                format!(
                    "band maths mixing two dates ({} and {})",
                    dates[0], dates[1]
                ),
                "make a stack of the dates and reduce it (median, mean, ...) before combining",
            ));
        }
        Ok(Value::Pixel(pixel))
    }

    fn apply_with(
        &mut self,
        op: Binary,
        cube: Value,
        number: f32,
        number_first: bool,
    ) -> Result<Value, OpenEoError> {
        let Value::Cube { node, date } = cube else {
            unreachable!("called with a cube")
        };
        let (x, n) = (
            Box::new(Parameter::X.pixel()),
            Box::new(Pixel::Constant(number)),
        );
        let maths = if number_first {
            Pixel::Binary(op, n, x)
        } else {
            Pixel::Binary(op, x, n)
        };
        let process = child_graph(&maths, Parameter::X)?;
        let node = self.graph.add(
            "apply",
            json!({ "data": from_node(&node), "process": process }),
        );
        Ok(Value::Cube { node, date })
    }

    fn choose(&mut self, c: &Node, a: &Node, b: &Node) -> Result<Value, OpenEoError> {
        let (condition, chosen, otherwise) = (self.value(c)?, self.value(a)?, self.value(b)?);
        match (condition, chosen, otherwise) {
            (Value::Pixel(c), Value::Pixel(a), Value::Pixel(b)) => {
                self.pixel(Pixel::Choose(Box::new(c), Box::new(a), Box::new(b)))
            }
            (condition, chosen, Value::Pixel(missing)) if missing.is_missing() => {
                let data = self.cube(chosen)?;
                let keep = match condition {
                    Value::Pixel(p) => Value::Pixel(p.negated()),
                    cube => self.unary_on(Unary::Not, cube)?,
                };
                let mask = self.cube(keep)?;
                let node = self.graph.add(
                    "mask",
                    json!({ "data": from_node(&data), "mask": from_node(&mask) }),
                );
                Ok(Value::Cube { node, date: None })
            }
            _ => Err(OpenEoError::untranslatable(
                "choosing between a computed result and another value (choose on a reduced stack)",
                "choose per date before reducing the stack, or mask the result (mask(raster, condition))",
            )),
        }
    }

    fn unary_on(&mut self, op: Unary, cube: Value) -> Result<Value, OpenEoError> {
        let Value::Cube { node, date } = cube else {
            unreachable!("called with a cube")
        };
        let process = child_graph(
            &Pixel::Unary(op, Box::new(Parameter::X.pixel())),
            Parameter::X,
        )?;
        let node = self.graph.add(
            "apply",
            json!({ "data": from_node(&node), "process": process }),
        );
        Ok(Value::Cube { node, date })
    }

    /// A stack reduction: the same band maths on each date, reduced over `t`.
    fn reduce(&mut self, reduction: Reduction, layers: &[Arc<Node>]) -> Result<Value, OpenEoError> {
        let reducer = match reduction {
            Reduction::Mean => "mean",
            Reduction::Median => "median",
            Reduction::Min => "min",
            Reduction::Max => "max",
            Reduction::Sum => "sum",
            Reduction::Count => "count",
            Reduction::Std => {
                return Err(OpenEoError::untranslatable(
                    "std() of a stack (the population standard deviation)",
                    "openEO's sd is the sample standard deviation; compute it from mean() of \
                     squares, or reduce with mean, median, min, max, sum or count",
                ));
            }
            Reduction::Percentile(_) => {
                return Err(OpenEoError::untranslatable(
                    "percentile() of a stack",
                    "reduce with median (the 50th percentile), min, max, mean, sum or count",
                ));
            }
        };
        let mut maths: Option<Pixel> = None;
        let mut dates = Vec::new();
        for layer in layers {
            let pixel = match self.value(layer)? {
                Value::Pixel(p) if p.dates().len() == 1 => p,
                _ => {
                    return Err(OpenEoError::untranslatable(
                        "a stack whose layers are not band maths of one date each",
                        "build each layer from the collection's bands of its own date",
                    ));
                }
            };
            let date = pixel.dates().remove(0);
            if dates.contains(&date) {
                return Err(OpenEoError::untranslatable(
                    format!("a stack holding {date} twice"),
                    "keep one raster per date",
                ));
            }
            dates.push(date);
            let undated = pixel.undated();
            match &maths {
                None => maths = Some(pixel),
                Some(first) if first.undated() == undated => {}
                Some(_) => {
                    return Err(OpenEoError::untranslatable(
                        "a stack whose dates are computed differently",
                        "compute every date's layer with the same expression",
                    ));
                }
            }
        }
        let maths = maths.expect("a stack has a layer");
        dates.sort();
        let data = self.data_for(&dates)?;
        let cube = self.materialize(&maths, &data)?;
        let mut summary = Graph::default();
        let node = summary.add(reducer, json!({ "data": from_parameter("data") }));
        let process = json!({ "process_graph": summary.finish(&node) });
        let node = self.graph.add(
            "reduce_dimension",
            json!({ "data": from_node(&cube), "reducer": process, "dimension": "t" }),
        );
        Ok(Value::Cube { node, date: None })
    }

    /// The cube of a value (band maths becomes `reduce_dimension` over bands).
    fn cube(&mut self, value: Value) -> Result<String, OpenEoError> {
        match value {
            Value::Cube { node, .. } => Ok(node),
            Value::Pixel(pixel) => {
                let Some(date) = pixel.dates().pop() else {
                    return Err(OpenEoError::untranslatable(
                        "a raster of constant values",
                        "compute from the collection's bands",
                    ));
                };
                let data = self.data_for(&[date])?;
                self.materialize(&pixel, &data)
            }
        }
    }

    /// Band maths on `data`: a mask when its outermost step is one.
    fn materialize(&mut self, pixel: &Pixel, data: &str) -> Result<String, OpenEoError> {
        if let Pixel::Choose(condition, chosen, otherwise) = pixel
            && otherwise.is_missing()
            && !condition.dates().is_empty()
        {
            let values = self.materialize(chosen, data)?;
            let mask = self.materialize(&condition.as_ref().clone().negated(), data)?;
            return Ok(self.graph.add(
                "mask",
                json!({ "data": from_node(&values), "mask": from_node(&mask) }),
            ));
        }
        let reducer = child_graph(pixel, Parameter::Data)?;
        Ok(self.graph.add(
            "reduce_dimension",
            json!({ "data": from_node(data), "reducer": reducer, "dimension": "bands" }),
        ))
    }

    /// The collection restricted to `dates` (the whole load when they are
    /// all its dates), or an error for dates that are not a run of them.
    fn data_for(&mut self, dates: &[String]) -> Result<String, OpenEoError> {
        if dates == self.collection.found.as_slice() {
            return Ok(self.load.clone());
        }
        let (first, last) = (dates[0].clone(), dates[dates.len() - 1].clone());
        let within: Vec<&String> = self
            .collection
            .found
            .iter()
            .filter(|d| **d >= first && **d <= last)
            .collect();
        if within.len() != dates.len() {
            return Err(OpenEoError::untranslatable(
                format!("a stack of some of the collection's dates between {first} and {last}"),
                "stack every date of the collection in that period, or load a collection of just the dates you want",
            ));
        }
        if let Some(node) = self.filtered.get(&(first.clone(), last.clone())) {
            return Ok(node.clone());
        }
        let node = self.graph.add(
            "filter_temporal",
            json!({ "data": from_node(&self.load), "extent": [first, day_after(&last)] }),
        );
        self.filtered.insert((first, last), node.clone());
        Ok(node)
    }
}

/// `(x - y) / (x + y)` built from the same two expressions.
fn normalized_difference<'a>(op: Binary, a: &'a Node, b: &'a Node) -> Option<(&'a Node, &'a Node)> {
    match (op, a, b) {
        (
            Binary::Divide,
            Node::Binary(Binary::Subtract, x, y),
            Node::Binary(Binary::Add, x2, y2),
        ) if Arc::ptr_eq(x, x2) && Arc::ptr_eq(y, y2) => Some((x, y)),
        _ => None,
    }
}

/// What the callback of a child graph receives.
#[derive(Clone, Copy, PartialEq)]
enum Parameter {
    /// `reduce_dimension`'s `data`: the pixel's values along `bands`.
    Data,
    /// `apply`'s `x`: one value.
    X,
    /// `merge_cubes`' overlap resolver: `x` and `y`.
    XY,
    /// Only to build the resolver's maths.
    Y,
}

impl Parameter {
    /// The parameter as a pixel expression (a band with a reserved name).
    fn pixel(self) -> Pixel {
        let name = if self == Parameter::Y {
            "\u{0}y"
        } else {
            "\u{0}x"
        };
        Pixel::Band {
            band: name.into(),
            date: String::new(),
        }
    }
}

/// Band maths as a child process graph: `{"process_graph": {...}}`.
fn child_graph(pixel: &Pixel, parameter: Parameter) -> Result<Json, OpenEoError> {
    let mut child = Child {
        graph: Graph::default(),
        parameter,
        elements: HashMap::new(),
    };
    let result = child.emit(pixel);
    let Some(node) = result
        .get("from_node")
        .and_then(Json::as_str)
        .map(str::to_string)
    else {
        return Err(OpenEoError::untranslatable(
            "a raster of constant values",
            "compute from the collection's bands",
        ));
    };
    Ok(json!({ "process_graph": child.graph.finish(&node) }))
}

struct Child {
    graph: Graph,
    parameter: Parameter,
    /// `array_element` nodes by band.
    elements: HashMap<String, String>,
}

impl Child {
    /// The argument giving `pixel`'s value: a node reference or a number.
    fn emit(&mut self, pixel: &Pixel) -> Json {
        match pixel {
            Pixel::Constant(v) if v.is_nan() => Json::Null,
            // The shortest decimal that reads back as the same f32 (0.08,
            // not 0.07999999821186066).
            Pixel::Constant(v) => json!(v.to_string().parse::<f64>().unwrap_or(f64::from(*v))),
            Pixel::Band { band, .. } => self.band(band),
            Pixel::Unary(op, a) => self.unary(*op, a),
            Pixel::Binary(op, a, b) => {
                let (x, y) = (self.emit(a), self.emit(b));
                self.binary(*op, x, y)
            }
            Pixel::NormalizedDifference(a, b) => {
                let (x, y) = (self.emit(a), self.emit(b));
                self.call("normalized_difference", json!({ "x": x, "y": y }))
            }
            Pixel::Choose(c, a, b) => {
                let value = self.condition(c);
                let accept = self.emit(a);
                let mut arguments = json!({ "value": value, "accept": accept });
                // A missing `reject` is left out: it defaults to null (no
                // data), and openeo-processes-dask fails on an explicit null.
                if !b.is_missing() {
                    arguments["reject"] = self.emit(b);
                }
                self.call("if", arguments)
            }
        }
    }

    fn call(&mut self, process: &str, arguments: Json) -> Json {
        from_node(&self.graph.add(process, arguments))
    }

    fn band(&mut self, band: &str) -> Json {
        match band {
            "\u{0}x" => return from_parameter("x"),
            "\u{0}y" => return from_parameter("y"),
            _ => {}
        }
        if self.parameter != Parameter::Data {
            // Cube-level maths reads only its parameters.
            return from_parameter("x");
        }
        if let Some(node) = self.elements.get(band) {
            return from_node(node);
        }
        let node = self.graph.add(
            "array_element",
            json!({ "data": from_parameter("data"), "label": band }),
        );
        self.elements.insert(band.to_string(), node.clone());
        from_node(&node)
    }

    /// A boolean for `if`: comparisons as they are, numbers compared with 0.
    fn condition(&mut self, pixel: &Pixel) -> Json {
        let boolean = matches!(
            pixel,
            Pixel::Binary(
                Binary::Less
                    | Binary::LessOrEqual
                    | Binary::Greater
                    | Binary::GreaterOrEqual
                    | Binary::Equal
                    | Binary::NotEqual
                    | Binary::And
                    | Binary::Or,
                _,
                _
            )
        );
        let value = self.emit(pixel);
        if boolean {
            value
        } else {
            self.call("neq", json!({ "x": value, "y": 0 }))
        }
    }

    fn unary(&mut self, op: Unary, a: &Pixel) -> Json {
        let x = self.emit(a);
        match op {
            Unary::Negate => self.call("multiply", json!({ "x": x, "y": -1 })),
            Unary::Abs => self.call("absolute", json!({ "x": x })),
            Unary::Sqrt => self.call("sqrt", json!({ "x": x })),
            Unary::Log10 => self.call("log", json!({ "x": x, "base": 10 })),
            Unary::Ln => self.call("ln", json!({ "x": x })),
            Unary::Exp => self.call("exp", json!({ "p": x })),
            Unary::Decibel => {
                let log = self.call("log", json!({ "x": x, "base": 10 }));
                self.call("multiply", json!({ "x": log, "y": 10 }))
            }
            Unary::IsValid => self.call("is_valid", json!({ "x": x })),
            Unary::Not => self.call("eq", json!({ "x": x, "y": 0 })),
        }
    }

    fn binary(&mut self, op: Binary, x: Json, y: Json) -> Json {
        let two = |a: &str, b: &str| {
            let mut arguments = Map::new();
            arguments.insert(a.into(), x.clone());
            arguments.insert(b.into(), y.clone());
            Json::Object(arguments)
        };
        let (process, arguments) = match op {
            Binary::Add => ("add", two("x", "y")),
            Binary::Subtract => ("subtract", two("x", "y")),
            Binary::Multiply => ("multiply", two("x", "y")),
            Binary::Divide => ("divide", two("x", "y")),
            Binary::Power => ("power", two("base", "p")),
            Binary::Min => ("min", json!({ "data": [x, y] })),
            Binary::Max => ("max", json!({ "data": [x, y] })),
            Binary::Less => ("lt", two("x", "y")),
            Binary::LessOrEqual => ("lte", two("x", "y")),
            Binary::Greater => ("gt", two("x", "y")),
            Binary::GreaterOrEqual => ("gte", two("x", "y")),
            Binary::Equal => ("eq", two("x", "y")),
            Binary::NotEqual => ("neq", two("x", "y")),
            Binary::And => ("and", two("x", "y")),
            Binary::Or => ("or", two("x", "y")),
        };
        self.call(process, arguments)
    }
}
