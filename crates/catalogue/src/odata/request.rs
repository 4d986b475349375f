//! What both dialects' search requests share: what a search asks for
//! ([`Search`]), the reading of an expression's tokens with the boolean
//! grammar both speak (`Tokens`), the limits on an expression (length,
//! nesting), the syntax error that names the position ([`ParseError`]),
//! the refusals of paging and options ([`RequestError`]) and the reading
//! of `$top` / `$skip` and of an `$orderby` clause.

use super::filter::{Filter, FilterError};
use cleope_eo::odata::{Page, Query, SortOrder};

/// The longest `$search` or `$filter` expression read (64 KiB): a query
/// with a 200-point area is about 10 KB.
pub const MAX_EXPRESSION_BYTES: usize = 64 * 1024;

/// How deep parentheses and `NOT`s may nest in an expression. The parsers
/// count, rather than trusting the stack: a few kilobytes of `(((` must be
/// a clear error (a 400 from the catalogue), never a crash.
pub const MAX_NESTING: usize = 64;

/// What the parsers expect when an expression nests too deep.
pub const NESTING_EXPECTED: &str =
    "at most 64 levels of parentheses and NOT (the expression nests deeper; simplify it)";

/// Results per page when `$top` is not given (both dialects).
pub const DEFAULT_TOP: usize = 20;

/// What a search request asks for in either dialect: which products, which
/// page, in which order.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// What `$search` / `$filter` selects.
    pub filter: Filter,
    /// `$top` / `$skip`.
    pub page: Page,
    /// `$orderby`; sensing start ascending when absent.
    pub order: SortOrder,
}

impl Default for Search {
    /// Everything, the first page of [`DEFAULT_TOP`], oldest first.
    fn default() -> Search {
        Search {
            filter: Filter::All,
            page: Page {
                top: DEFAULT_TOP,
                skip: 0,
            },
            order: SortOrder::SensingAscending,
        }
    }
}

impl Search {
    /// The search as the [`Query`] model and its page; refuses filters a
    /// `Query` cannot express.
    pub fn into_query(self) -> Result<(Query, Page), RequestError> {
        Ok((self.filter.to_query(self.order)?, self.page))
    }
}

/// A token of either dialect's lexer.
#[derive(Debug, Clone)]
pub(crate) struct Token<K> {
    /// What it is (each dialect has its kinds).
    pub kind: K,
    /// Byte offset in the expression.
    pub at: usize,
    /// The token as written.
    pub raw: String,
}

/// A dialect's token kinds, and the one rule of its grammar that differs:
/// what a condition (a term, with its parentheses) is.
pub(crate) trait TokenKind: Clone + Sized {
    /// The bare word this token is (a keyword, property or name), if any.
    fn word(&self) -> Option<&str>;

    /// Reads one condition: a term, or an expression in parentheses.
    fn primary(tokens: &mut Tokens<'_, Self>) -> Result<Filter, ParseError>;
}

/// The reading of one expression, shared by both dialects'
/// recursive-descent parsers: the tokens, which the lexer ends with an end
/// token, the place reached, the parentheses and `NOT`s open around it
/// (counted rather than trusting the stack), and the boolean grammar both
/// share, `OR`s of `AND`s of conditions, each maybe after `NOT` (any case);
/// each dialect reads its conditions ([`TokenKind::primary`]).
pub(crate) struct Tokens<'a, K> {
    /// `$search` or `$filter`, for errors.
    parameter: &'static str,
    /// The expression, for errors.
    text: &'a str,
    tokens: Vec<Token<K>>,
    next: usize,
    depth: usize,
}

impl<'a, K: TokenKind> Tokens<'a, K> {
    /// The reading of `tokens`, lexed from `text` (the last is the end).
    pub fn new(parameter: &'static str, text: &'a str, tokens: Vec<Token<K>>) -> Tokens<'a, K> {
        Tokens {
            parameter,
            text,
            tokens,
            next: 0,
            depth: 0,
        }
    }

    /// The whole expression: everything when it is empty, and nothing may
    /// follow it (`after` says what could have).
    pub fn whole(mut self, after: &str) -> Result<Filter, ParseError> {
        if self.at_end() {
            return Ok(Filter::All);
        }
        let filter = self.or()?;
        if !self.at_end() {
            return Err(self.error(self.peek(), after));
        }
        Ok(filter)
    }

    /// Whether only the end token is left.
    fn at_end(&self) -> bool {
        self.next + 1 == self.tokens.len()
    }

    /// The next token, not taken.
    pub fn peek(&self) -> &Token<K> {
        &self.tokens[self.next]
    }

    /// Takes the next token; at the end, the end again.
    pub fn bump(&mut self) -> Token<K> {
        let token = self.tokens[self.next].clone();
        if !self.at_end() {
            self.next += 1;
        }
        token
    }

    /// An error at `token`, expecting `expected`.
    pub fn error(&self, token: &Token<K>, expected: &str) -> ParseError {
        ParseError::at(self.parameter, self.text, token.at, &token.raw, expected)
    }

    /// Whether the next token is the keyword `word` (any case).
    pub fn keyword(&self, word: &str) -> bool {
        self.peek()
            .kind
            .word()
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    }

    /// `and (OR and)*`: the alternatives, the expression itself for one.
    pub fn or(&mut self) -> Result<Filter, ParseError> {
        Ok(Filter::any_of(self.joined("or", Self::and)?))
    }

    /// `unary (AND unary)*`: the conjunction, the part itself for one.
    fn and(&mut self) -> Result<Filter, ParseError> {
        Ok(Filter::all_of(self.joined("and", Self::unary)?))
    }

    /// `NOT unary`, or a condition.
    fn unary(&mut self) -> Result<Filter, ParseError> {
        if self.keyword("not") {
            let token = self.bump();
            return self.nested(&token, |tokens| Ok(Filter::Not(Box::new(tokens.unary()?))));
        }
        K::primary(self)
    }

    /// `part (keyword part)*`: the parts read.
    fn joined(
        &mut self,
        keyword: &str,
        part: impl Fn(&mut Self) -> Result<Filter, ParseError>,
    ) -> Result<Vec<Filter>, ParseError> {
        let mut parts = vec![part(self)?];
        while self.keyword(keyword) {
            self.bump();
            parts.push(part(self)?);
        }
        Ok(parts)
    }

    /// Runs `inner` one level deeper (after `token`, a `(` or a `NOT`),
    /// refusing past [`MAX_NESTING`] levels.
    pub fn nested(
        &mut self,
        token: &Token<K>,
        inner: impl FnOnce(&mut Self) -> Result<Filter, ParseError>,
    ) -> Result<Filter, ParseError> {
        if self.depth >= MAX_NESTING {
            return Err(self.error(token, NESTING_EXPECTED));
        }
        self.depth += 1;
        let filter = inner(self);
        self.depth -= 1;
        filter
    }
}

/// A syntax error in a `$search` or `$filter` expression: where, what was
/// found there, and what would have been understood. The message quotes
/// the expression around the position only (a hostile one may be long).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{parameter}: at position {position}, expected {expected}, found {found}\n  {}", excerpt(input, *position))]
pub struct ParseError {
    /// `$search` or `$filter`.
    pub parameter: &'static str,
    /// The expression as received (URL-decoded).
    pub input: String,
    /// Characters before the unexpected token (0 = the first character).
    pub position: usize,
    /// The unexpected token, quoted, or "the end of the expression".
    pub found: String,
    /// What would have been understood there.
    pub expected: String,
}

impl ParseError {
    /// An error at byte `offset` of `input`.
    pub fn at(
        parameter: &'static str,
        input: &str,
        offset: usize,
        found: &str,
        expected: impl Into<String>,
    ) -> ParseError {
        let mut offset = offset.min(input.len());
        while !input.is_char_boundary(offset) {
            offset -= 1;
        }
        let found = if found.is_empty() {
            "the end of the expression".to_string()
        } else {
            format!("'{}'", shown(found))
        };
        ParseError {
            parameter,
            input: input.to_string(),
            position: input[..offset].chars().count(),
            found,
            expected: expected.into(),
        }
    }
}

/// An expression refused for its length, before it is read.
pub fn too_long(parameter: &'static str, input: &str) -> Option<ParseError> {
    (input.len() > MAX_EXPRESSION_BYTES).then(|| ParseError {
        parameter,
        input: input.chars().take(200).collect(),
        position: 0,
        found: format!("{} bytes", input.len()),
        expected: format!(
            "an expression of at most {MAX_EXPRESSION_BYTES} bytes (search with a simpler area, \
             or split the query)"
        ),
    })
}

/// The line under a parse error: the expression around `position` (at
/// most 60 characters each side, cut ends shown as `…`) and a caret.
fn excerpt(input: &str, position: usize) -> String {
    const SIDE: usize = 60;
    let chars: Vec<char> = input.chars().collect();
    let position = position.min(chars.len());
    let start = position.saturating_sub(SIDE);
    let end = (position + SIDE).min(chars.len());
    let head = if start > 0 { "…" } else { "" };
    let tail = if end < chars.len() { "…" } else { "" };
    let text: String = chars[start..end].iter().collect();
    let caret = " ".repeat(position - start + head.chars().count());
    format!("{head}{text}{tail}\n  {caret}^")
}

/// A value from a request as messages quote it: at most 40 characters.
pub fn shown(value: &str) -> String {
    let mut text: String = value.chars().take(40).collect();
    if value.chars().nth(40).is_some() {
        text.push('…');
    }
    text
}

/// Why a catalogue request (its query string) cannot be served.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// The `$search` / `$filter` expression is malformed.
    #[error("{0}")]
    Syntax(#[from] ParseError),
    /// A paging option is not a whole number.
    #[error("{parameter}={value} is not a whole number: give e.g. {parameter}=100")]
    NotAnInteger {
        /// `$top` or `$skip`.
        parameter: &'static str,
        /// What was given.
        value: String,
    },
    /// A paging option is negative.
    #[error("{parameter}={value} is negative: give 0 or more")]
    Negative {
        /// `$top` or `$skip`.
        parameter: &'static str,
        /// What was given.
        value: String,
    },
    /// A paging option is past the catalogue's limit.
    #[error(
        "{parameter}={value} is more than the catalogue allows ({limit}): ask for pages of at most \
         1000 results, and narrow the query (dates, area) rather than skipping past 10000"
    )]
    OverLimit {
        /// `$top` or `$skip`.
        parameter: &'static str,
        /// What was given.
        value: String,
        /// The largest value accepted.
        limit: usize,
    },
    /// An option has a value the catalogue does not serve.
    #[error("{parameter}={value} is not served: {hint}")]
    Unsupported {
        /// The option.
        parameter: String,
        /// What was given.
        value: String,
        /// What is served instead.
        hint: String,
    },
    /// The expression is valid but says more than a [`Query`] can.
    #[error(transparent)]
    NotAQuery(#[from] FilterError),
}

/// The order an `$orderby` clause `<field> [asc|desc]` asks for, when its
/// field is `known` (both dialects order by sensing start, whichever time
/// field they name); None for anything else.
pub fn sort_order(clause: &str, known: impl Fn(&str) -> bool) -> Option<SortOrder> {
    let mut words = clause.split_whitespace();
    let field = words.next().unwrap_or("");
    let direction = words.next().unwrap_or("asc");
    if !known(field) || words.next().is_some() {
        return None;
    }
    match direction.to_ascii_lowercase().as_str() {
        "asc" => Some(SortOrder::SensingAscending),
        "desc" => Some(SortOrder::SensingDescending),
        _ => None,
    }
}

/// Reads `$top` or `$skip`: a whole number, at most `limit` when given.
pub fn parse_count(
    parameter: &'static str,
    value: &str,
    limit: Option<usize>,
) -> Result<usize, RequestError> {
    let trimmed = value.trim();
    let number: i128 = trimmed.parse().map_err(|_| RequestError::NotAnInteger {
        parameter,
        value: shown(value),
    })?;
    if number < 0 {
        return Err(RequestError::Negative {
            parameter,
            value: shown(value),
        });
    }
    match limit {
        Some(limit) if number > limit as i128 => Err(RequestError::OverLimit {
            parameter,
            value: shown(value),
            limit,
        }),
        _ => usize::try_from(number).map_err(|_| RequestError::NotAnInteger {
            parameter,
            value: shown(value),
        }),
    }
}
