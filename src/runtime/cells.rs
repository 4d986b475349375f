//! Cells: a script is split at `// %%` marker lines, as in jupytext's percent
//! format. `// %% [markdown]` starts a cell of `//` comment lines holding
//! Markdown. The same split feeds `cleope run --cells`, the step runner, the
//! notebook converter and the kernel.

use std::fmt;
use std::str::FromStr;

/// What a cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Code,
    Markdown,
}

/// One cell of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// 1-based position among all cells of the file.
    pub number: usize,
    pub kind: CellKind,
    /// Text after `// %%` on the marker line, if any (a cell title).
    pub title: Option<String>,
    /// 1-based line in the file of the first line of `text`.
    pub first_line: usize,
    /// Code as written, or Markdown with the `// ` prefixes removed.
    pub text: String,
}

const MARKER: &str = "// %%";

/// Splits a script into cells. Text before the first marker is a code cell of
/// its own when it holds anything but blank lines.
pub fn split_cells(source: &str) -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut current: Option<(CellKind, Option<String>, usize, Vec<&str>)> =
        Some((CellKind::Code, None, 1, Vec::new()));
    for (index, line) in source.lines().enumerate() {
        let line_number = index + 1;
        if let Some(rest) = line.trim_start().strip_prefix(MARKER) {
            if let Some(cell) = current.take() {
                push_cell(&mut cells, cell);
            }
            let (kind, title) = parse_marker(rest);
            current = Some((kind, title, line_number + 1, Vec::new()));
        } else if let Some((_, _, _, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some(cell) = current {
        push_cell(&mut cells, cell);
    }
    cells
}

fn parse_marker(rest: &str) -> (CellKind, Option<String>) {
    let rest = rest.trim();
    let (kind, title) = match rest
        .strip_prefix("[markdown]")
        .or(rest.strip_prefix("[md]"))
    {
        Some(title) => (CellKind::Markdown, title.trim()),
        None => (CellKind::Code, rest),
    };
    let title = (!title.is_empty()).then(|| title.to_string());
    (kind, title)
}

fn push_cell(
    cells: &mut Vec<Cell>,
    (kind, title, first_line, lines): (CellKind, Option<String>, usize, Vec<&str>),
) {
    let is_leading_blank = cells.is_empty()
        && first_line == 1
        && kind == CellKind::Code
        && lines.iter().all(|l| l.trim().is_empty());
    if is_leading_blank {
        return;
    }
    let text = match kind {
        CellKind::Code => lines.join("\n"),
        CellKind::Markdown => lines
            .iter()
            .map(|l| strip_comment(l))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    cells.push(Cell {
        number: cells.len() + 1,
        kind,
        title,
        first_line,
        text: text.trim_end().to_string(),
    });
}

fn strip_comment(line: &str) -> &str {
    let trimmed = line.trim_start();
    match trimmed.strip_prefix("//") {
        Some(rest) => rest.strip_prefix(' ').unwrap_or(rest),
        None => line,
    }
}

/// An inclusive range of cell numbers, written `3`, `2..5`, `..4` or `3..`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRange {
    pub first: usize,
    pub last: Option<usize>,
}

impl CellRange {
    /// True when cell `number` is in the range.
    pub fn contains(&self, number: usize) -> bool {
        number >= self.first && self.last.is_none_or(|last| number <= last)
    }
}

impl FromStr for CellRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let number = |part: &str| -> Result<usize, String> {
            match part.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!(
                    "'{part}' is not a cell number; cells are numbered from 1 (e.g. 2..5, 3, ..4, 3..)"
                )),
            }
        };
        let range = match text.split_once("..") {
            None => {
                let n = number(text)?;
                CellRange {
                    first: n,
                    last: Some(n),
                }
            }
            Some((a, b)) => CellRange {
                first: if a.trim().is_empty() { 1 } else { number(a)? },
                last: if b.trim().is_empty() {
                    None
                } else {
                    Some(number(b)?)
                },
            },
        };
        if range.last.is_some_and(|last| last < range.first) {
            return Err(format!(
                "the range {text} is empty: its end comes before its start"
            ));
        }
        Ok(range)
    }
}

impl fmt::Display for CellRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.last {
            Some(last) if last == self.first => write!(f, "{last}"),
            Some(last) => write!(f, "{}..{last}", self.first),
            None => write!(f, "{}..", self.first),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "// %% [markdown]\n// # Fires\n// Burn *scars*.\n\n// %% Load\nlet x = 1;\n\n// %%\nprint(x);\n";

    #[test]
    fn splits_markdown_and_code_cells_with_their_lines() {
        let cells = split_cells(SCRIPT);
        assert_eq!(cells.len(), 3);
        assert_eq!(cells[0].kind, CellKind::Markdown);
        assert_eq!(cells[0].text, "# Fires\nBurn *scars*.");
        assert_eq!(cells[1].title.as_deref(), Some("Load"));
        assert_eq!(cells[1].first_line, 6);
        assert_eq!(cells[1].text, "let x = 1;");
        assert_eq!(cells[2].number, 3);
        assert_eq!(cells[2].first_line, 9);
    }

    #[test]
    fn code_before_the_first_marker_is_a_cell() {
        let cells = split_cells("let a = 1;\n// %%\nlet b = 2;");
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].text, "let a = 1;");
        assert_eq!(cells[0].first_line, 1);
    }

    #[test]
    fn a_file_without_markers_is_one_cell() {
        let cells = split_cells("let a = 1;\nprint(a);\n");
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].kind, CellKind::Code);
    }

    #[test]
    fn ranges_parse_and_reject_nonsense() {
        assert_eq!(
            "2..5".parse(),
            Ok(CellRange {
                first: 2,
                last: Some(5)
            })
        );
        assert_eq!(
            "3".parse(),
            Ok(CellRange {
                first: 3,
                last: Some(3)
            })
        );
        assert_eq!(
            "..4".parse(),
            Ok(CellRange {
                first: 1,
                last: Some(4)
            })
        );
        assert_eq!(
            "3..".parse(),
            Ok(CellRange {
                first: 3,
                last: None
            })
        );
        assert!("0".parse::<CellRange>().is_err());
        assert!("5..2".parse::<CellRange>().unwrap_err().contains("empty"));
        assert!("a..b".parse::<CellRange>().is_err());
    }
}
