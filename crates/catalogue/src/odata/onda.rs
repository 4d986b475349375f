//! ONDA's requests as the catalogue reads them: [`parse_request`] reads a
//! search's query string (`$search`, `$top`, `$skip`, `$format=json`,
//! `$orderby` or CLEOPE's `orderby`), [`parse_search`] a `$search` value
//! into a [`Filter`]. The client renders them in `cleope_eo::odata::onda`
//! (the grammar is described there).

use chrono::{DateTime, Duration, Utc};

use super::filter::{Comparison, Filter, NameMatch, Region, TimeField};
use super::request::{
    ParseError, RequestError, Search, TokenKind, Tokens, parse_count, shown, sort_order, too_long,
};
use cleope_eo::odata::wire::parse_instant;
use cleope_eo::odata::{Page, Query, SortOrder};

/// Reads a search request's query-string pairs (URL-decoded): `$search`,
/// `$top`, `$skip`, `$format` (json only), `$orderby` or CLEOPE's `orderby`
/// by `beginPosition`, `endPosition` or `creationDate`. ONDA's request is
/// a search and nothing more.
pub fn parse_request(pairs: &[(String, String)]) -> Result<Search, RequestError> {
    let mut request = Search::default();
    for (key, text) in pairs {
        match key.as_str() {
            "$search" => request.filter = parse_search(text)?,
            "$top" => request.page.top = parse_count("$top", text, None)?,
            "$skip" => request.page.skip = parse_count("$skip", text, None)?,
            "$orderby" | "orderby" => request.order = parse_orderby(key, text)?,
            "$format" if !text.trim().eq_ignore_ascii_case("json") => {
                return Err(RequestError::Unsupported {
                    parameter: key.clone(),
                    value: shown(text),
                    hint: "this catalogue answers in JSON: use $format=json".into(),
                });
            }
            _ => {}
        }
    }
    Ok(request)
}

/// Reads a request into the [`Query`] model and its page; refuses searches a
/// `Query` cannot express.
pub fn parse_query(pairs: &[(String, String)]) -> Result<(Query, Page), RequestError> {
    parse_request(pairs)?.into_query()
}

fn parse_orderby(key: &str, text: &str) -> Result<SortOrder, RequestError> {
    let known = ["beginPosition", "endPosition", "creationDate"];
    let bad = || RequestError::Unsupported {
        parameter: key.to_string(),
        value: shown(text),
        hint: "order by beginPosition (or endPosition, creationDate), asc or desc".into(),
    };
    sort_order(text, |field| {
        known.iter().any(|k| k.eq_ignore_ascii_case(field))
    })
    .ok_or_else(bad)
}

/// Reads a `$search` value: terms `field:value`, `field:"quoted"`,
/// `field:[a TO b]` (`*`, `NOW`, `NOW-3DAYS` allowed in date ranges), bare
/// names (`"S2B_…zip"`, `S1A*`), joined with `AND` / `OR` (any case),
/// `NOT`, and parentheses; the outer double quotes CLEOPE wrapped around
/// everything are optional. Fields: platformName, productType,
/// productMainClass, beginPosition, endPosition, creationDate, footprint
/// (`"Intersects(POLYGON((…)))"`, `MULTIPOLYGON`, or DHuS's
/// `"Intersects(lat, lon)"`), cloudCoverPercentage, name, offline; any other
/// field is read as a product attribute of that name.
pub fn parse_search(text: &str) -> Result<Filter, ParseError> {
    if let Some(error) = too_long("$search", text) {
        return Err(error);
    }
    let (inner, offset) = strip_outer_quotes(text);
    let tokens = lex(text, inner, offset)?;
    Parser::new("$search", text, tokens).whole("AND, OR or the end of the search")
}

/// CLEOPE wrapped the whole search in double quotes (without escaping the
/// inner ones): drop a pair that encloses everything.
fn strip_outer_quotes(text: &str) -> (&str, usize) {
    let trimmed_start = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    if trimmed.len() >= 2 && trimmed.starts_with('"') && trimmed.ends_with('"') {
        let inner = &trimmed[1..trimmed.len() - 1];
        if inner.matches('"').count().is_multiple_of(2) {
            return (inner, trimmed_start + 1);
        }
    }
    (text, 0)
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Open,
    Close,
    /// `"…"`: the text inside.
    Quoted(String),
    /// `[a TO b]`: the text inside.
    Range(String),
    /// `field:` with nothing glued after it.
    Field(String),
    /// `field:value` glued together.
    FieldValue(String, String),
    /// A bare word: AND, OR, NOT, or a name.
    Word(String),
    End,
}

type Token = super::request::Token<Kind>;

impl TokenKind for Kind {
    fn word(&self) -> Option<&str> {
        match self {
            Kind::Word(word) => Some(word),
            _ => None,
        }
    }

    fn primary(parser: &mut Parser) -> Result<Filter, ParseError> {
        parser.primary()
    }
}

fn lex(text: &str, inner: &str, offset: usize) -> Result<Vec<Token>, ParseError> {
    let bytes = inner.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        let start = i;
        let push = |tokens: &mut Vec<Token>, kind: Kind, end: usize| {
            tokens.push(Token {
                kind,
                at: offset + start,
                raw: inner[start..end].to_string(),
            })
        };
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                i += 1;
                push(&mut tokens, Kind::Open, i);
            }
            ')' => {
                i += 1;
                push(&mut tokens, Kind::Close, i);
            }
            '"' | '[' => {
                let close = if c == '"' { '"' } else { ']' };
                let end = inner[i + 1..].find(close).ok_or_else(|| {
                    let what = if c == '"' {
                        "a closing double quote (\")"
                    } else {
                        "a closing ']' for this range"
                    };
                    ParseError::at("$search", text, offset + i, &inner[i..], what)
                })?;
                let content = inner[i + 1..i + 1 + end].to_string();
                i += end + 2;
                let kind = if c == '"' {
                    Kind::Quoted(content)
                } else {
                    Kind::Range(content)
                };
                push(&mut tokens, kind, i);
            }
            _ => {
                while i < bytes.len()
                    && !(bytes[i] as char).is_whitespace()
                    && !"()\"[".contains(bytes[i] as char)
                {
                    i += 1;
                }
                let word = &inner[start..i];
                let kind = match word.split_once(':') {
                    Some((field, "")) => Kind::Field(field.to_string()),
                    Some((field, value)) => Kind::FieldValue(field.to_string(), value.to_string()),
                    None => Kind::Word(word.to_string()),
                };
                push(&mut tokens, kind, i);
            }
        }
    }
    tokens.push(Token {
        kind: Kind::End,
        at: offset + inner.len(),
        raw: String::new(),
    });
    Ok(tokens)
}

type Parser<'a> = Tokens<'a, Kind>;

const TERM: &str = "a term: field:value (platformName, productType, productMainClass, \
     beginPosition, endPosition, cloudCoverPercentage, name, footprint), a product name, NOT or '('";

/// A field's value as written.
enum Value {
    Bare(String),
    Quoted(String),
    Range(String),
}

impl Parser<'_> {
    fn primary(&mut self) -> Result<Filter, ParseError> {
        let token = self.bump();
        match token.kind.clone() {
            Kind::Open => self.nested(&token, |parser| {
                let inner = parser.or()?;
                let close = parser.bump();
                if close.kind != Kind::Close {
                    return Err(parser.error(&close, "')' closing the parenthesis, AND or OR"));
                }
                Ok(inner)
            }),
            Kind::Field(field) => {
                let value_token = self.bump();
                let value = match value_token.kind.clone() {
                    Kind::Quoted(text) => Value::Quoted(text),
                    Kind::Range(text) => Value::Range(text),
                    _ => {
                        return Err(self.error(
                            &value_token,
                            &format!("a value for {field}: a word, \"quoted text\" or [a TO b]"),
                        ));
                    }
                };
                self.term(&token, &field, value, &value_token)
            }
            Kind::FieldValue(field, text) => {
                let text = self.platform_words(&field, text);
                self.term(&token, &field, Value::Bare(text), &token)
            }
            Kind::Quoted(name) => Ok(name_filter(&name)),
            Kind::Word(word) if !is_operator(&word) => Ok(name_filter(&word)),
            _ => Err(self.error(&token, TERM)),
        }
    }

    /// CLEOPE sent `platformName:Sentinel-5 Precursor` with a bare space:
    /// the words after a platform name up to an operator or parenthesis are
    /// part of it.
    fn platform_words(&mut self, field: &str, mut text: String) -> String {
        if !field.eq_ignore_ascii_case("platformName") {
            return text;
        }
        while let Kind::Word(word) = &self.peek().kind {
            if is_operator(word) {
                break;
            }
            text.push(' ');
            text.push_str(word);
            self.bump();
        }
        text
    }

    fn term(
        &self,
        field_token: &Token,
        field: &str,
        value: Value,
        value_token: &Token,
    ) -> Result<Filter, ParseError> {
        let lower = field.to_ascii_lowercase();
        let text_of = |value: &Value| match value {
            Value::Bare(t) | Value::Quoted(t) => Some(t.clone()),
            Value::Range(_) => None,
        };
        let need_text = |what: &str| self.error(value_token, &format!("{what}, not a range"));
        match lower.as_str() {
            "platformname" => Ok(Filter::Mission(
                text_of(&value).ok_or_else(|| need_text("a platform name"))?,
            )),
            "producttype" => Ok(Filter::ProductType(
                text_of(&value).ok_or_else(|| need_text("a product type"))?,
            )),
            "productmainclass" => Ok(Filter::MainClass(
                text_of(&value).ok_or_else(|| need_text("a main class"))?,
            )),
            "name" | "filename" => Ok(name_filter(
                &text_of(&value).ok_or_else(|| need_text("a product name"))?,
            )),
            "offline" => match text_of(&value)
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("true") => Ok(Filter::Online(false)),
                Some("false") => Ok(Filter::Online(true)),
                _ => Err(self.error(value_token, "true or false")),
            },
            "footprint" => self.footprint(value, value_token),
            "beginposition" | "endposition" | "creationdate" | "ingestiondate" => {
                let field = match lower.as_str() {
                    "beginposition" => TimeField::SensingStart,
                    "endposition" => TimeField::SensingEnd,
                    _ => TimeField::Publication,
                };
                self.time_term(field, value, value_token)
            }
            "cloudcoverpercentage" => self.number_term("cloudCover", value, value_token),
            _ if field.is_empty() => Err(self.error(field_token, TERM)),
            _ => match value {
                Value::Range(_) => self.number_term(field, value, value_token),
                Value::Bare(text) | Value::Quoted(text) => match text.parse::<f64>() {
                    Ok(number) => Ok(Filter::Number {
                        attribute: field.to_string(),
                        op: Comparison::Eq,
                        value: number,
                    }),
                    Err(_) => Ok(Filter::Text {
                        attribute: field.to_string(),
                        value: text,
                    }),
                },
            },
        }
    }

    fn footprint(&self, value: Value, token: &Token) -> Result<Filter, ParseError> {
        let expected = "\"Intersects(POLYGON((lon lat,lon lat,…)))\" or \"Intersects(lat, lon)\"";
        let Value::Quoted(text) = value else {
            return Err(self.error(token, expected));
        };
        let trimmed = text.trim();
        let inside = trimmed
            .get(..11)
            .filter(|head| head.eq_ignore_ascii_case("intersects("))
            .and_then(|_| trimmed[11..].strip_suffix(')'))
            .ok_or_else(|| self.error(token, expected))?;
        // DHuS's point form: "Intersects(lat, lon)".
        let numbers: Vec<Option<f64>> = inside.split(',').map(|n| n.trim().parse().ok()).collect();
        if let [Some(lat), Some(lon)] = numbers[..] {
            return Ok(Filter::Intersects(Region::Point(lon, lat)));
        }
        let region = Region::from_wkt(inside).map_err(|e| {
            self.error(
                token,
                &format!("a valid lon/lat polygon in the footprint ({e})"),
            )
        })?;
        Ok(Filter::Intersects(region))
    }

    fn time_term(
        &self,
        field: TimeField,
        value: Value,
        token: &Token,
    ) -> Result<Filter, ParseError> {
        let expected = "a range [start TO end] of instants like 2020-07-20T00:00:00.000Z, * or NOW";
        self.range_term(value, token, expected, |bound, op| {
            Some(Filter::time(field, op, onda_instant(bound)?))
        })
    }

    fn number_term(
        &self,
        attribute: &str,
        value: Value,
        token: &Token,
    ) -> Result<Filter, ParseError> {
        let expected = "a range of numbers [low TO high] (* for no bound)";
        self.range_term(value, token, expected, |bound, op| {
            Some(Filter::Number {
                attribute: attribute.to_string(),
                op,
                value: bound.parse().ok()?,
            })
        })
    }

    /// The conditions of `[low TO high]` (`*`: no bound), or of one value
    /// (both bounds): `condition` reads each bound with its comparison
    /// (≥ the low one, ≤ the high one), None when the bound is not `expected`.
    fn range_term(
        &self,
        value: Value,
        token: &Token,
        expected: &str,
        condition: impl Fn(&str, Comparison) -> Option<Filter>,
    ) -> Result<Filter, ParseError> {
        let (low, high) = match &value {
            Value::Range(range) => split_range(range).ok_or_else(|| self.error(token, expected))?,
            Value::Bare(text) | Value::Quoted(text) => (text.clone(), text.clone()),
        };
        let mut parts = Vec::new();
        for (bound, op) in [(low, Comparison::Ge), (high, Comparison::Le)] {
            if bound != "*" {
                parts.push(condition(&bound, op).ok_or_else(|| self.error(token, expected))?);
            }
        }
        Ok(Filter::all_of(parts))
    }
}

fn is_operator(word: &str) -> bool {
    ["AND", "OR", "NOT"]
        .iter()
        .any(|op| word.eq_ignore_ascii_case(op))
}

fn name_filter(name: &str) -> Filter {
    if name.contains(['*', '?']) {
        Filter::Name(NameMatch::Glob(name.to_string()))
    } else {
        Filter::Name(NameMatch::Exact(name.to_string()))
    }
}

/// `a TO b` (any case of `TO`) into its two bounds.
fn split_range(range: &str) -> Option<(String, String)> {
    let words: Vec<&str> = range.split_whitespace().collect();
    match words[..] {
        [low, to, high] if to.eq_ignore_ascii_case("TO") => Some((low.into(), high.into())),
        _ => None,
    }
}

/// An instant, `NOW`, or `NOW-<n>DAY(S)|HOUR(S)|MINUTE(S)`.
fn onda_instant(text: &str) -> Option<DateTime<Utc>> {
    let upper = text.to_ascii_uppercase();
    let Some(rest) = upper.strip_prefix("NOW") else {
        return parse_instant(text);
    };
    if rest.is_empty() {
        return Some(Utc::now());
    }
    let rest = rest.strip_prefix('-')?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let amount: i64 = digits.parse().ok()?;
    let unit = rest[digits.len()..].trim_end_matches('S');
    // Checked: `NOW-99999999999DAYS` is no instant, not a panic.
    let span = match unit {
        "DAY" => Duration::try_days(amount)?,
        "HOUR" => Duration::try_hours(amount)?,
        "MINUTE" => Duration::try_minutes(amount)?,
        _ => return None,
    };
    Utc::now().checked_sub_signed(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleope_eo::geometry::{Aoi, BBox};

    fn instant(text: &str) -> DateTime<Utc> {
        parse_instant(text).unwrap()
    }

    /// The URL CLEOPE produced (inventory §2), byte for byte.
    const CLEOPE_URL: &str = "https://catalogue.onda-dias.eu/dias-catalogue/Products?$search=%22(%20(%20(%20platformName:Sentinel-3%20AND%20productType:SY_2_SYN___%20)%20)%20AND%20(%20(%20beginPosition:[2020-07-20T00:00:00.000Z%20TO%202020-07-21T23:59:59.999Z]%20AND%20endPosition:[2020-07-20T00:00:00.000Z%20TO%202020-07-21T23:59:59.999Z]%20)%20)%20)%20AND%20footprint:%22Intersects(POLYGON((1.825846%2035.424868,1.825846%2044.995883,17.551899%2044.995883,17.551899%2035.424868,1.825846%2035.424868)))%22%22&$format=json&orderby=creationDate%20asc&$top=100&$skip=0";

    #[test]
    fn reads_the_url_cleope_produced() {
        let (query, page) = parse_query(&crate::query_pairs(
            CLEOPE_URL.split_once('?').map(|(_, q)| q),
        ))
        .unwrap();
        assert_eq!(page, Page { top: 100, skip: 0 });
        assert_eq!(query.mission.as_deref(), Some("Sentinel-3"));
        assert_eq!(query.product_type.as_deref(), Some("SY_2_SYN___"));
        assert_eq!(query.sensed_from, Some(instant("2020-07-20T00:00:00Z")));
        assert_eq!(query.sensed_to, Some(instant("2020-07-21T23:59:59.999Z")));
        let italy = BBox::new(1.825846, 35.424868, 17.551899, 44.995883).unwrap();
        assert_eq!(query.aoi, Some(Aoi::from_bbox(italy)));
        assert_eq!(query.order, SortOrder::SensingAscending);
    }

    #[test]
    fn reads_cleopes_other_forms() {
        // The name search of qm.get_uuid, the S1 wildcard, the bare-space
        // platform name, mission-only and dates-only groups.
        let by_name =
            parse_search("\"S2B_MSIL1C_20200813T010309_N0209_R045_T55PBR_20200813T021947.zip\"")
                .unwrap();
        assert_eq!(
            by_name,
            Filter::Name(NameMatch::Exact(
                "S2B_MSIL1C_20200813T010309_N0209_R045_T55PBR_20200813T021947.zip".into()
            ))
        );
        let s1 = parse_search("\"( ( platformName:Sentinel-1 AND productType:*GRD* ) )\"")
            .unwrap()
            .to_query(SortOrder::default())
            .unwrap();
        assert_eq!(s1.product_type.as_deref(), Some("GRD"));
        let s5p = parse_search(
            "\"( ( platformName:Sentinel-5 Precursor AND productType:L2__NO2___ ) ) AND footprint:\"Intersects(POLYGON((1 1,2 1,2 2,1 2,1 1)))\"\"",
        )
        .unwrap()
        .to_query(SortOrder::default())
        .unwrap();
        assert_eq!(s5p.mission.as_deref(), Some("Sentinel-5 Precursor"));
        let class = parse_search("( productMainClass:Copernicus-atmosphere )").unwrap();
        assert_eq!(class, Filter::MainClass("Copernicus-atmosphere".into()));
        let anchors = parse_search(
            "\"( platformName:Sentinel-2 AND productType:S2MSI2A ) AND ( beginPosition:[2018-01-01T00:00:00.000Z TO NOW] AND endPosition:[* TO 2020-08-16T00:00:00.000Z] ) AND cloudCoverPercentage:[0 TO 50]\"",
        )
        .unwrap()
        .to_query(SortOrder::default())
        .unwrap();
        assert_eq!(anchors.sensed_from, Some(instant("2018-01-01T00:00:00Z")));
        assert_eq!(anchors.sensed_to, Some(instant("2020-08-16T00:00:00Z")));
        assert_eq!(anchors.max_cloud, Some(50.0));
    }

    #[test]
    fn errors_name_the_position_and_the_token() {
        let error =
            parse_search("\"platformName:Sentinel-2 AND beginPosition:[2020-01-01T00:00:00Z TO]\"")
                .unwrap_err();
        assert_eq!(error.position, 43, "{error}");
        assert!(error.expected.contains("[start TO end]"), "{error}");
        let error = parse_search("( platformName:Sentinel-2").unwrap_err();
        assert_eq!(error.found, "the end of the expression");
        assert!(error.expected.contains("')'"), "{error}");
        let error = parse_search("footprint:\"Intersects(POLYGON((0 0,1 1,0 0)))\"").unwrap_err();
        assert_eq!(error.position, 10);
        assert!(error.expected.contains("polygon"), "{error}");
        let error = parse_search("platformName:Sentinel-2 AND AND").unwrap_err();
        assert_eq!((error.position, error.found.as_str()), (28, "'AND'"));
        let error = parse_search("name:\"S2A").unwrap_err();
        assert!(error.expected.contains("closing double quote"), "{error}");
    }

    #[test]
    fn nesting_is_counted_and_refused_past_64_levels_without_recursing_further() {
        let at = |depth: usize| format!("{}name:X{}", "(".repeat(depth), ")".repeat(depth));
        assert!(parse_search(&at(64)).is_ok());
        let error = parse_search(&at(65)).unwrap_err();
        assert_eq!((error.position, error.found.as_str()), (64, "'('"));
        assert!(error.expected.contains("at most 64 levels"), "{error}");
        // Far deeper than any stack would take: still just an error, quoted short.
        let error = parse_search(&at(100_000)).unwrap_err();
        assert!(error.to_string().len() < 500, "{}", error.to_string().len());
        let nots = format!("{}name:X", "NOT ".repeat(1000));
        let error = parse_search(&nots).unwrap_err();
        assert_eq!(error.position, 64 * 4);
        assert!(parse_search(&format!("{}name:X", "NOT ".repeat(64))).is_ok());
        let error = parse_search(&"x".repeat(70_000)).unwrap_err();
        assert!(error.expected.contains("at most 65536 bytes"), "{error}");
        // A relative date too far back is no date, not a panic.
        let error = parse_search("beginPosition:[NOW-99999999999999DAYS TO NOW]").unwrap_err();
        assert!(error.expected.contains("instants"), "{error}");
    }

    #[test]
    fn paging_values_are_quoted_short_in_errors() {
        let long = "9".repeat(60_000);
        let error = parse_request(&[("$top".into(), long)]).unwrap_err();
        assert!(error.to_string().len() < 200, "{error}");
    }

    #[test]
    fn reads_variants_of_the_real_service() {
        let filter = parse_search(
            "platformname:Sentinel-2 and (name:S2A* OR offline:false) AND footprint:\"Intersects(41.9, 12.5)\" AND relativeOrbitNumber:22 AND orbitDirection:DESCENDING AND creationDate:[NOW-2DAYS TO NOW]",
        )
        .unwrap();
        let Filter::And(parts) = filter else { panic!() };
        assert_eq!(parts[0], Filter::Mission("Sentinel-2".into()));
        assert_eq!(
            parts[1],
            Filter::Or(vec![
                Filter::Name(NameMatch::Glob("S2A*".into())),
                Filter::Online(true)
            ])
        );
        assert_eq!(parts[2], Filter::Intersects(Region::Point(12.5, 41.9)));
        assert_eq!(
            parts[3],
            Filter::Number {
                attribute: "relativeOrbitNumber".into(),
                op: Comparison::Eq,
                value: 22.0
            }
        );
        assert_eq!(
            parts[4],
            Filter::Text {
                attribute: "orbitDirection".into(),
                value: "DESCENDING".into()
            }
        );
        assert!(matches!(&parts[5], Filter::And(bounds) if bounds.len() == 2));
        assert!(matches!(
            parse_request(&[("$format".into(), "xml".into())]),
            Err(RequestError::Unsupported { .. })
        ));
    }
}
