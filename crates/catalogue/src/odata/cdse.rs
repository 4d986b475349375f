//! CDSE's requests as the catalogue reads them: [`parse_request`] reads a
//! search's query string (`$filter`, `$orderby`, `$top` ≤ 1000, `$skip` ≤
//! 10000, `$count`, `$expand=Attributes`), [`parse_filter`] a `$filter`
//! expression into a [`Filter`]. The client renders them in
//! `cleope_eo::odata::cdse`; the tests here read back what it writes.

use chrono::{DateTime, Utc};

use super::filter::{Comparison, Filter, NameMatch, Region, TimeField};
use super::request::{
    ParseError, RequestError, Search, TokenKind, Tokens, parse_count, shown, sort_order, too_long,
};
use cleope_eo::odata::cdse::{MAX_SKIP, MAX_TOP};
use cleope_eo::odata::wire::parse_instant;
use cleope_eo::odata::{Page, Query, SortOrder};

/// A CDSE search request as the catalogue reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct CdseRequest {
    /// What `$filter` selects, `$top` / `$skip`, `$orderby`.
    pub search: Search,
    /// `$count=true`: add `@odata.count`.
    pub count: bool,
    /// `$expand=Attributes`: include each product's attributes.
    pub expand_attributes: bool,
}

/// Reads a search request's query-string pairs (URL-decoded). Limits are
/// CDSE's: `$top` ≤ 1000, `$skip` ≤ 10000 ([`RequestError::OverLimit`]).
pub fn parse_request(pairs: &[(String, String)]) -> Result<CdseRequest, RequestError> {
    let mut request = CdseRequest {
        search: Search::default(),
        count: false,
        expand_attributes: false,
    };
    for (key, value) in pairs {
        match key.as_str() {
            "$filter" => request.search.filter = parse_filter(value)?,
            "$top" => request.search.page.top = parse_count("$top", value, Some(MAX_TOP))?,
            "$skip" => request.search.page.skip = parse_count("$skip", value, Some(MAX_SKIP))?,
            "$orderby" => request.search.order = parse_orderby(value)?,
            "$count" => request.count = parse_flag(key, value)?,
            "$expand" => {
                request.expand_attributes = value
                    .split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case("Attributes"))
            }
            _ => {}
        }
    }
    Ok(request)
}

/// Reads a request into the [`Query`] model and its page; refuses filters a
/// `Query` cannot express.
pub fn parse_query(pairs: &[(String, String)]) -> Result<(Query, Page), RequestError> {
    parse_request(pairs)?.search.into_query()
}

fn parse_flag(key: &str, value: &str) -> Result<bool, RequestError> {
    match value.trim() {
        "true" | "True" | "1" => Ok(true),
        "false" | "False" | "0" => Ok(false),
        _ => Err(RequestError::Unsupported {
            parameter: key.to_string(),
            value: shown(value),
            hint: "give true or false".into(),
        }),
    }
}

fn parse_orderby(value: &str) -> Result<SortOrder, RequestError> {
    let first = value.split(',').next().unwrap_or("");
    let known = [
        "ContentDate/Start",
        "ContentDate/End",
        "PublicationDate",
        "ModificationDate",
    ];
    let bad = || RequestError::Unsupported {
        parameter: "$orderby".into(),
        value: shown(value),
        hint: "order by ContentDate/Start (or ContentDate/End, PublicationDate), asc or desc"
            .into(),
    };
    sort_order(first, |field| known.contains(&field)).ok_or_else(bad)
}

/// Reads a `$filter` expression: `and`/`or`/`not` (any case), parentheses,
/// comparisons on `Name`, `Id`, `Collection/Name`, `ContentDate/Start`,
/// `ContentDate/End`, `PublicationDate`, `Online`; `contains`, `startswith`,
/// `endswith` on `Name`; `OData.CSC.Intersects(area=geography'…')` with a
/// polygon, multipolygon or point; and attribute lambdas
/// `Attributes/OData.CSC.<T>Attribute/any(att:att/Name eq '…' and
/// att/OData.CSC.<T>Attribute/Value <op> <value>)`.
pub fn parse_filter(text: &str) -> Result<Filter, ParseError> {
    if let Some(error) = too_long("$filter", text) {
        return Err(error);
    }
    Parser::new("$filter", text, lex(text)?).whole("'and', 'or' or the end of the expression")
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Open,
    Close,
    Comma,
    Colon,
    Equals,
    /// A quoted string, unescaped.
    Text(String),
    /// `geography'…'`: the WKT inside.
    Geography(String),
    /// A name, path, keyword, number or date.
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

fn lex(text: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        let start = i;
        let single = match c {
            '(' => Some(Kind::Open),
            ')' => Some(Kind::Close),
            ',' => Some(Kind::Comma),
            ':' => Some(Kind::Colon),
            '=' => Some(Kind::Equals),
            _ => None,
        };
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if let Some(kind) = single {
            i += 1;
            tokens.push(Token {
                kind,
                at: start,
                raw: c.to_string(),
            });
            continue;
        }
        if c == '\'' {
            let (value, end) = quoted(text, i)?;
            i = end;
            tokens.push(Token {
                kind: Kind::Text(value),
                at: start,
                raw: text[start..i].to_string(),
            });
            continue;
        }
        let word_char = |b: u8| {
            let c = b as char;
            if text.as_bytes()[start].is_ascii_digit() || text.as_bytes()[start] == b'-' {
                c.is_ascii_alphanumeric() || ".:+-".contains(c)
            } else {
                c.is_ascii_alphanumeric() || "_./$".contains(c)
            }
        };
        if !word_char(bytes[i]) {
            return Err(ParseError::at(
                "$filter",
                text,
                i,
                &c.to_string(),
                "a property, a value, a quoted string or a parenthesis",
            ));
        }
        while i < bytes.len() && word_char(bytes[i]) {
            i += 1;
        }
        let word = &text[start..i];
        if i < bytes.len() && bytes[i] == b'\'' && word.eq_ignore_ascii_case("geography") {
            let (value, end) = quoted(text, i)?;
            i = end;
            tokens.push(Token {
                kind: Kind::Geography(value),
                at: start,
                raw: text[start..i].to_string(),
            });
            continue;
        }
        tokens.push(Token {
            kind: Kind::Word(word.to_string()),
            at: start,
            raw: word.to_string(),
        });
    }
    tokens.push(Token {
        kind: Kind::End,
        at: text.len(),
        raw: String::new(),
    });
    Ok(tokens)
}

/// The string starting with the quote at `start` (`''` is a quote inside),
/// and the offset after its closing quote.
fn quoted(text: &str, start: usize) -> Result<(String, usize), ParseError> {
    let bytes = text.as_bytes();
    let mut value = String::new();
    let mut i = start + 1;
    let mut piece = i;
    loop {
        if i >= bytes.len() {
            return Err(ParseError::at(
                "$filter",
                text,
                start,
                &text[start..],
                "a closing quote (') for this string",
            ));
        }
        if bytes[i] == b'\'' {
            value.push_str(&text[piece..i]);
            if bytes.get(i + 1) == Some(&b'\'') {
                value.push('\'');
                i += 2;
                piece = i;
                continue;
            }
            return Ok((value, i + 1));
        }
        i += 1;
    }
}

type Parser<'a> = Tokens<'a, Kind>;

const PROPERTIES: &str = "a condition: Name, Id, Collection/Name, ContentDate/Start, ContentDate/End, \
     PublicationDate or Online compared with eq/ne/lt/le/gt/ge, contains/startswith/endswith(Name,'…'), \
     OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((…))'), \
     Attributes/OData.CSC.<Type>Attribute/any(…), 'not' or '('";

impl Parser<'_> {
    fn expect(&mut self, kind: Kind, what: &str) -> Result<Token, ParseError> {
        let token = self.bump();
        if token.kind == kind {
            Ok(token)
        } else {
            Err(self.error(&token, what))
        }
    }

    fn primary(&mut self) -> Result<Filter, ParseError> {
        let token = self.bump();
        match &token.kind {
            Kind::Open => self.nested(&token, |parser| {
                let inner = parser.or()?;
                parser.expect(Kind::Close, "')' closing the parenthesis")?;
                Ok(inner)
            }),
            Kind::Word(word) if self.peek().kind == Kind::Open => self.function(&token, word),
            Kind::Word(word) => self.comparison(&token, word),
            _ => Err(self.error(&token, PROPERTIES)),
        }
    }

    fn function(&mut self, token: &Token, name: &str) -> Result<Filter, ParseError> {
        self.bump(); // (
        let lower = name.to_ascii_lowercase();
        let filter = match lower.as_str() {
            "contains" | "startswith" | "endswith" => self.name_function(&lower)?,
            "odata.csc.intersects" => self.intersects()?,
            _ if lower.starts_with("attributes/odata.csc.") && lower.ends_with("/any") => {
                self.attribute(token, name)?
            }
            _ => return Err(self.error(token, PROPERTIES)),
        };
        self.expect(Kind::Close, "')' closing the function's arguments")?;
        Ok(filter)
    }

    fn name_function(&mut self, function: &str) -> Result<Filter, ParseError> {
        let property = self.bump();
        if !matches!(&property.kind, Kind::Word(w) if w == "Name") {
            return Err(self.error(
                &property,
                "Name (the only text property these functions take)",
            ));
        }
        self.expect(Kind::Comma, "',' before the text to look for")?;
        let value = self.text_literal()?;
        Ok(Filter::Name(match function {
            "contains" => NameMatch::Contains(value),
            "startswith" => NameMatch::StartsWith(value),
            _ => NameMatch::EndsWith(value),
        }))
    }

    fn intersects(&mut self) -> Result<Filter, ParseError> {
        if matches!(&self.peek().kind, Kind::Word(w) if w.eq_ignore_ascii_case("area")) {
            self.bump();
            self.expect(Kind::Equals, "'=' after area")?;
        }
        let token = self.bump();
        let wkt = match &token.kind {
            Kind::Geography(wkt) | Kind::Text(wkt) => wkt.clone(),
            _ => {
                return Err(self.error(
                    &token,
                    "an area: geography'SRID=4326;POLYGON((lon lat,lon lat,…))'",
                ));
            }
        };
        let region = Region::from_wkt(&wkt).map_err(|e| {
            self.error(
                &token,
                &format!("a valid lon/lat polygon or point in the geography literal ({e})"),
            )
        })?;
        Ok(Filter::Intersects(region))
    }

    /// `att:att/Name eq 'cloudCover' and att/OData.CSC.DoubleAttribute/Value le 40`,
    /// the two comparisons in either order, optionally in parentheses.
    fn attribute(&mut self, token: &Token, path: &str) -> Result<Filter, ParseError> {
        let kind = attribute_type(path).ok_or_else(|| {
            self.error(
                token,
                "Attributes/OData.CSC.StringAttribute, DoubleAttribute, IntegerAttribute or DateTimeOffsetAttribute",
            )
        })?;
        let variable = self.bump();
        let Kind::Word(variable_name) = variable.kind.clone() else {
            return Err(self.error(&variable, "a variable name, e.g. att"));
        };
        self.expect(Kind::Colon, "':' after the lambda variable")?;
        let mut depth = 0;
        while self.peek().kind == Kind::Open {
            self.bump();
            depth += 1;
        }
        let mut name = None;
        let mut value = None;
        loop {
            let (side, op, literal) = self.lambda_comparison(&variable_name, kind)?;
            match side {
                LambdaSide::Name(text) => name = Some((text, literal)),
                LambdaSide::Value => value = Some((op, literal)),
            }
            if !self.keyword("and") {
                break;
            }
            self.bump();
        }
        for _ in 0..depth {
            self.expect(Kind::Close, "')' closing the lambda's parenthesis")?;
        }
        let after = self.peek().clone();
        let (Some((attribute, _)), Some((op, literal))) = (name, value) else {
            return Err(self.error(
                &after,
                &format!(
                    "both {variable_name}/Name eq '<attribute>' and \
                     {variable_name}/OData.CSC.{kind}Attribute/Value <op> <value>"
                ),
            ));
        };
        attribute_filter_of(&attribute, kind, op, &literal)
            .map_err(|expected| self.error(&literal, &expected))
    }

    fn lambda_comparison(
        &mut self,
        variable: &str,
        kind: &str,
    ) -> Result<(LambdaSide, Comparison, Token), ParseError> {
        let path = self.bump();
        let Kind::Word(text) = &path.kind else {
            return Err(self.error(
                &path,
                &format!("{variable}/Name or {variable}/OData.CSC.{kind}Attribute/Value"),
            ));
        };
        let name_path = format!("{variable}/Name");
        let value_path = format!("{variable}/OData.CSC.{kind}Attribute/Value");
        let op = self.operator()?;
        let literal = self.bump();
        if text == &name_path {
            let Kind::Text(name) = &literal.kind else {
                return Err(self.error(&literal, "the attribute name in quotes, e.g. 'cloudCover'"));
            };
            if op != Comparison::Eq {
                return Err(self.error(&path, "eq (attribute names are compared with eq)"));
            }
            return Ok((LambdaSide::Name(name.clone()), op, literal));
        }
        if text.eq_ignore_ascii_case(&value_path) {
            return Ok((LambdaSide::Value, op, literal));
        }
        Err(self.error(&path, &format!("{name_path} or {value_path}")))
    }

    fn operator(&mut self) -> Result<Comparison, ParseError> {
        let token = self.bump();
        let op = match &token.kind {
            Kind::Word(w) => match w.to_ascii_lowercase().as_str() {
                "eq" => Some(Comparison::Eq),
                "ne" => Some(Comparison::Ne),
                "lt" => Some(Comparison::Lt),
                "le" => Some(Comparison::Le),
                "gt" => Some(Comparison::Gt),
                "ge" => Some(Comparison::Ge),
                _ => None,
            },
            _ => None,
        };
        op.ok_or_else(|| self.error(&token, "a comparison operator: eq, ne, lt, le, gt or ge"))
    }

    fn text_literal(&mut self) -> Result<String, ParseError> {
        let token = self.bump();
        match &token.kind {
            Kind::Text(text) => Ok(text.clone()),
            _ => Err(self.error(&token, "a quoted string, e.g. 'S2A'")),
        }
    }

    fn comparison(&mut self, token: &Token, property: &str) -> Result<Filter, ParseError> {
        let time_field = match property {
            "ContentDate/Start" => Some(TimeField::SensingStart),
            "ContentDate/End" => Some(TimeField::SensingEnd),
            "PublicationDate" => Some(TimeField::Publication),
            _ => None,
        };
        let known = time_field.is_some()
            || matches!(property, "Name" | "Id" | "Collection/Name" | "Online");
        if !known {
            return Err(self.error(token, PROPERTIES));
        }
        let op = self.operator()?;
        if let Some(field) = time_field {
            let instant = self.instant()?;
            return Ok(Filter::time(field, op, instant));
        }
        let equality = |filter: Filter| match op {
            Comparison::Eq => Ok(filter),
            Comparison::Ne => Ok(Filter::Not(Box::new(filter))),
            _ => Err(()),
        };
        let literal_token = self.peek().clone();
        let filter = match property {
            "Name" => Filter::Name(NameMatch::Exact(self.text_literal()?)),
            "Collection/Name" => Filter::Collection(self.text_literal()?),
            "Id" => Filter::Id(self.id_literal()?),
            _ => Filter::Online(self.boolean()?),
        };
        equality(filter).map_err(|_| {
            self.error(
                &literal_token,
                &format!("eq or ne ({property} is compared for equality only)"),
            )
        })
    }

    fn id_literal(&mut self) -> Result<String, ParseError> {
        let token = self.bump();
        match &token.kind {
            Kind::Text(text) | Kind::Word(text) => Ok(text.clone()),
            _ => Err(self.error(&token, "a product id, e.g. 'a1b2c3d4-…'")),
        }
    }

    fn boolean(&mut self) -> Result<bool, ParseError> {
        let token = self.bump();
        match &token.kind {
            Kind::Word(w) if w.eq_ignore_ascii_case("true") => Ok(true),
            Kind::Word(w) if w.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(self.error(&token, "true or false")),
        }
    }

    fn instant(&mut self) -> Result<DateTime<Utc>, ParseError> {
        let token = self.bump();
        let text = match &token.kind {
            Kind::Word(w) | Kind::Text(w) => w.clone(),
            _ => String::new(),
        };
        parse_instant(&text)
            .ok_or_else(|| self.error(&token, "an instant like 2022-05-03T00:00:00.000Z"))
    }
}

enum LambdaSide {
    Name(String),
    Value,
}

/// `String`, `Double`, `Integer` or `DateTimeOffset` from an attribute path.
fn attribute_type(path: &str) -> Option<&'static str> {
    let middle = path.get("Attributes/OData.CSC.".len()..path.len() - "/any".len())?;
    ["String", "Double", "Integer", "DateTimeOffset"]
        .into_iter()
        .find(|kind| middle.eq_ignore_ascii_case(&format!("{kind}Attribute")))
}

/// The filter of one attribute condition; the error says what the literal
/// should have been.
fn attribute_filter_of(
    attribute: &str,
    kind: &str,
    op: Comparison,
    literal: &Token,
) -> Result<Filter, String> {
    let negate = |filter: Filter| match op {
        Comparison::Eq => Ok(filter),
        Comparison::Ne => Ok(Filter::Not(Box::new(filter))),
        _ => Err(format!("eq or ne ({attribute} is a text attribute)")),
    };
    match kind {
        "String" => {
            let Kind::Text(value) = &literal.kind else {
                return Err(format!("a quoted value for {attribute}, e.g. 'S2MSI2A'"));
            };
            negate(match attribute {
                "productType" => Filter::ProductType(value.clone()),
                "platformShortName" => Filter::Collection(value.clone()),
                _ => Filter::Text {
                    attribute: attribute.to_string(),
                    value: value.clone(),
                },
            })
        }
        "DateTimeOffset" => {
            let field = match attribute {
                "beginningDateTime" => TimeField::SensingStart,
                "endingDateTime" => TimeField::SensingEnd,
                "processingDate" | "publicationDate" => TimeField::Publication,
                _ => {
                    return Err(format!(
                        "a time attribute the catalogue knows (beginningDateTime, endingDateTime), not {attribute}"
                    ));
                }
            };
            let instant = match &literal.kind {
                Kind::Word(w) | Kind::Text(w) => parse_instant(w),
                _ => None,
            };
            let instant = instant.ok_or("an instant like 2022-05-03T00:00:00.000Z")?;
            Ok(Filter::time(field, op, instant))
        }
        _ => {
            let value = match &literal.kind {
                Kind::Word(w) => w.parse::<f64>().ok(),
                _ => None,
            };
            let value = value.ok_or_else(|| format!("a number for {attribute}, e.g. 40.00"))?;
            Ok(Filter::Number {
                attribute: attribute.to_string(),
                op,
                value,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::request::DEFAULT_TOP;
    use cleope_eo::geometry::Aoi;
    use cleope_eo::odata::cdse::filter_expression;

    fn instant(text: &str) -> DateTime<Utc> {
        parse_instant(text).unwrap()
    }

    #[test]
    fn areas_of_several_parts_become_alternatives() {
        let two =
            Aoi::from_wkt("MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((5 5,6 5,6 6,5 6,5 5)))").unwrap();
        let query = Query {
            aoi: Some(two),
            ..Query::default()
        };
        let expression = filter_expression(&query).unwrap().unwrap();
        assert!(
            expression.starts_with("(OData.CSC.Intersects(") && expression.contains(" or "),
            "{expression}"
        );
        let back = parse_filter(&expression)
            .unwrap()
            .to_query(SortOrder::default())
            .unwrap();
        assert_eq!(back.aoi, query.aoi);
    }

    #[test]
    fn reads_the_services_variants() {
        let filter = parse_filter(
            "((Collection/Name eq 'SENTINEL-1')) AND contains(Name,'GRD') and \
             ContentDate/Start gt 2022-05-03T00:00:00.000Z And ContentDate/Start lt 2022-05-21 and \
             Attributes/OData.CSC.StringAttribute/any(att:(att/OData.CSC.StringAttribute/Value eq 'ASCENDING' and att/Name eq 'orbitDirection')) \
             and OData.CSC.Intersects(area=geography'SRID=4326;POINT(12.5 41.9)') and Online eq true \
             and not (Name eq 'it''s')",
        )
        .unwrap();
        let Filter::And(parts) = &filter else {
            panic!("{filter:?}")
        };
        assert_eq!(parts[0], Filter::Collection("SENTINEL-1".into()));
        assert_eq!(parts[1], Filter::Name(NameMatch::Contains("GRD".into())));
        assert_eq!(
            parts[3],
            Filter::time(
                TimeField::SensingStart,
                Comparison::Lt,
                instant("2022-05-21")
            )
        );
        assert_eq!(
            parts[4],
            Filter::Text {
                attribute: "orbitDirection".into(),
                value: "ASCENDING".into()
            }
        );
        assert_eq!(parts[5], Filter::Intersects(Region::Point(12.5, 41.9)));
        assert_eq!(parts[6], Filter::Online(true));
        assert_eq!(
            parts[7],
            Filter::Not(Box::new(Filter::Name(NameMatch::Exact("it's".into()))))
        );
        let cloud = parse_filter(
            "Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and att/OData.CSC.DoubleAttribute/Value le 40.00)",
        )
        .unwrap();
        assert_eq!(
            cloud,
            Filter::Number {
                attribute: "cloudCover".into(),
                op: Comparison::Le,
                value: 40.0
            }
        );
        assert_eq!(parse_filter("  ").unwrap(), Filter::All);
    }

    #[test]
    fn nesting_is_counted_and_refused_past_64_levels() {
        let at = |depth: usize| format!("{}Online eq true{}", "(".repeat(depth), ")".repeat(depth));
        assert!(parse_filter(&at(64)).is_ok());
        let error = parse_filter(&at(65)).unwrap_err();
        assert_eq!(error.position, 64);
        assert!(error.expected.contains("at most 64 levels"), "{error}");
        assert!(parse_filter(&at(100_000)).is_err());
        let error = parse_filter(&format!("{}Online eq true", "not ".repeat(1000))).unwrap_err();
        assert_eq!(error.position, 64 * 4);
        let error = parse_filter(&format!(
            "OData.CSC.Intersects(area=geography'SRID=4326;{}POINT(1 2){}')",
            "GEOMETRYCOLLECTION(".repeat(200),
            ")".repeat(200)
        ))
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("nests more than 16 levels"), "{message}");
        assert!(message.len() < 1000, "{}", message.len());
    }

    #[test]
    fn errors_name_the_position_and_the_token() {
        let error = parse_filter("Collection/Name eqq 'SENTINEL-2'").unwrap_err();
        assert_eq!(error.position, 16);
        assert_eq!(error.found, "'eqq'");
        assert!(error.expected.contains("eq, ne"), "{error}");
        let shown = error.to_string();
        assert!(shown.contains("at position 16"), "{shown}");
        assert!(
            shown.ends_with(&format!("\n  {}^", " ".repeat(16))),
            "{shown}"
        );

        let error = parse_filter("Name eq 'unterminated").unwrap_err();
        assert_eq!(error.position, 8);
        assert!(error.expected.contains("closing quote"), "{error}");

        let error = parse_filter("Cloud eq 3").unwrap_err();
        assert_eq!((error.position, error.found.as_str()), (0, "'Cloud'"));

        let error = parse_filter("(Name eq 'a'").unwrap_err();
        assert_eq!(error.found, "the end of the expression");

        let error =
            parse_filter("OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((0 0,1 1,0 0))')")
                .unwrap_err();
        assert!(error.expected.contains("polygon"), "{error}");

        let error = parse_filter("ContentDate/Start ge yesterday").unwrap_err();
        assert!(error.expected.contains("instant"), "{error}");
    }

    #[test]
    fn limits_and_options() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let over = parse_request(&pairs(&[("$skip", "10001")])).unwrap_err();
        assert_eq!(
            over,
            RequestError::OverLimit {
                parameter: "$skip",
                value: "10001".into(),
                limit: 10000
            }
        );
        assert!(matches!(
            parse_request(&pairs(&[("$top", "1001")])),
            Err(RequestError::OverLimit {
                parameter: "$top",
                ..
            })
        ));
        assert!(matches!(
            parse_request(&pairs(&[("$top", "ten")])),
            Err(RequestError::NotAnInteger { .. })
        ));
        assert!(matches!(
            parse_request(&pairs(&[("$top", "-1")])),
            Err(RequestError::Negative { .. })
        ));
        let request = parse_request(&pairs(&[
            ("$top", "1000"),
            ("$skip", "10000"),
            ("$count", "True"),
            ("$expand", "Attributes,Assets"),
            ("$orderby", "ContentDate/Start desc"),
        ]))
        .unwrap();
        assert_eq!(
            request.search.page,
            Page {
                top: 1000,
                skip: 10000
            }
        );
        assert!(request.count && request.expand_attributes);
        assert_eq!(request.search.order, SortOrder::SensingDescending);
        assert_eq!(parse_request(&[]).unwrap().search.page.top, DEFAULT_TOP);
        assert!(parse_request(&pairs(&[("$orderby", "Size asc")])).is_err());
    }
}
