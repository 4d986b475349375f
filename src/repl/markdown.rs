//! Markdown cells as a class reads them on a terminal: headings, emphasis,
//! code, links, lists and quotes rendered, not the raw markup.
//!
//! Only the Markdown tutorials use is handled, line by line; anything else is
//! shown as written, which is still readable.

use super::style::Style;

/// Renders Markdown text for the terminal.
pub fn render(markdown: &str, style: Style) -> String {
    let mut lines = Vec::new();
    let mut in_fence = false;
    // The lines of the paragraph or list item being read: emphasis and
    // code spans may continue on its next lines (`**Normalized⏎Difference**`).
    let mut block: Vec<&str> = Vec::new();
    for line in markdown.lines() {
        let fence = line.trim_start().starts_with("```");
        let blank = line.trim().is_empty();
        if fence || in_fence || blank || starts_block(line) {
            lines.extend(render_block(&block, style));
            block.clear();
        }
        if fence {
            in_fence = !in_fence;
        } else if in_fence {
            lines.push(format!("    {}", style.code(line)));
        } else if blank {
            lines.push(String::new());
        } else {
            block.push(line);
        }
    }
    lines.extend(render_block(&block, style));
    lines.join("\n")
}

/// True when `line` starts a block of its own rather than continuing the
/// paragraph above: a heading, rule, list item or quote.
fn starts_block(line: &str) -> bool {
    let trimmed = line.trim_start();
    heading(trimmed).is_some()
        || is_rule(trimmed)
        || bullet(trimmed).is_some()
        || numbered(trimmed)
        || trimmed.starts_with('>')
}

/// `1. text` or `2) text`.
fn numbered(line: &str) -> bool {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") "))
}

/// A paragraph or list item and the lines that continue it, rendered with
/// its line breaks kept; continuation lines of a list item are indented
/// under its text.
fn render_block(block: &[&str], style: Style) -> Vec<String> {
    let Some((first, rest)) = block.split_first() else {
        return Vec::new();
    };
    let trimmed = first.trim_start();
    // Headings, rules and quotes are one line each: what follows is prose.
    let single = heading(trimmed).is_some() || is_rule(trimmed) || trimmed.starts_with('>');
    if rest.is_empty() || single {
        return block
            .iter()
            .flat_map(|line| render_line(line, style))
            .collect();
    }
    let indent = &first[..first.len() - trimmed.len()];
    let continued: Vec<&str> = rest.iter().map(|line| line.trim()).collect();
    let (lead, text) = match bullet(trimmed) {
        Some(item) => (format!("{indent}  • "), item),
        None => (indent.to_string(), trimmed),
    };
    let joined = format!("{text}\n{}", continued.join("\n"));
    let under = " ".repeat(lead.chars().count());
    let rendered = inline(&joined, style).replace('\n', &format!("\n{under}"));
    vec![format!("{lead}{rendered}")]
}

/// One line of prose; a heading may become two lines (text and underline).
fn render_line(line: &str, style: Style) -> Vec<String> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if let Some((level, title)) = heading(trimmed) {
        return render_heading(level, &inline(title, style), title, style);
    }
    if is_rule(trimmed) {
        return vec![style.dim(&"─".repeat(40))];
    }
    let rendered = if let Some(item) = bullet(trimmed) {
        format!("{indent}  • {}", inline(item, style))
    } else if let Some(quote) = trimmed.strip_prefix('>') {
        format!(
            "{indent}{} {}",
            style.dim("│"),
            inline(quote.trim_start(), style)
        )
    } else {
        format!("{indent}{}", inline(trimmed, style))
    };
    vec![rendered]
}

fn render_heading(level: usize, rendered: &str, raw: &str, style: Style) -> Vec<String> {
    if style.enabled() {
        let text = if level == 1 {
            style.heading(rendered)
        } else {
            style.bold(rendered)
        };
        return vec![text];
    }
    // Without colours, underline the two top levels as plain-text documents do.
    let width = strip_markup(raw).chars().count();
    match level {
        1 => vec![rendered.to_string(), "=".repeat(width)],
        2 => vec![rendered.to_string(), "-".repeat(width)],
        _ => vec![rendered.to_string()],
    }
}

/// `# Title` → (1, "Title").
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    let title = line[level..].strip_prefix(' ')?;
    (1..=6).contains(&level).then(|| (level, title.trim()))
}

/// `---`, `***`, `___` (spaces allowed): a horizontal rule.
fn is_rule(line: &str) -> bool {
    let marks: Vec<char> = line.chars().filter(|c| !c.is_whitespace()).collect();
    marks.len() >= 3
        && ['-', '*', '_']
            .iter()
            .any(|&m| marks.iter().all(|&c| c == m))
}

/// The text of a list item (`- x`, `* x`, `+ x`); numbered items stay as written.
fn bullet(line: &str) -> Option<&str> {
    ["- ", "* ", "+ "]
        .iter()
        .find_map(|mark| line.strip_prefix(mark))
}

/// Inline markup: `**strong**`, `*emphasis*`, `` `code` `` and `[text](url)`.
fn inline(text: &str, style: Style) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let (rendered, consumed) = match c {
            '`' => span(rest, "`", |inner| style.code(inner)),
            '*' if rest.starts_with("**") => {
                span(rest, "**", |inner| style.bold(&inline(inner, style)))
            }
            '_' if rest.starts_with("__") => {
                span(rest, "__", |inner| style.bold(&inline(inner, style)))
            }
            '*' => span(rest, "*", |inner| style.italic(&inline(inner, style))),
            '_' if starts_word(&text[..text.len() - rest.len()]) => {
                span(rest, "_", |inner| style.italic(&inline(inner, style)))
            }
            '[' => link(rest, style),
            _ => None,
        }
        .unwrap_or_else(|| (c.to_string(), c.len_utf8()));
        out.push_str(&rendered);
        rest = &rest[consumed..];
    }
    out
}

/// True when an `_` here could open emphasis (not inside `snake_case`).
fn starts_word(before: &str) -> bool {
    before.chars().last().is_none_or(|c| !c.is_alphanumeric())
}

/// Text between `mark` at the start of `text` and the next `mark`, rendered
/// by `render`; `None` when the mark is not closed (it is then literal text).
fn span(text: &str, mark: &str, render: impl Fn(&str) -> String) -> Option<(String, usize)> {
    let after = &text[mark.len()..];
    let end = after.find(mark)?;
    let inner = &after[..end];
    if inner.is_empty() || inner.starts_with(' ') {
        return None;
    }
    Some((render(inner), mark.len() * 2 + end))
}

/// `[text](url)` → "text (url)".
fn link(text: &str, style: Style) -> Option<(String, usize)> {
    let close = text.find("](")?;
    let url_end = text[close..].find(')')? + close;
    let label = &text[1..close];
    if label.contains(']') {
        return None; // `[a] and [b](u)`: the first bracket is not a link
    }
    let url = &text[close + 2..url_end];
    let rendered = format!(
        "{} {}",
        inline(label, style),
        style.dim(&format!("({url})"))
    );
    Some((rendered, url_end + 1))
}

/// The visible text of a line, without markup or colours (to measure it).
fn strip_markup(text: &str) -> String {
    inline(text, Style::plain())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_underlined_in_plain_text() {
        let text = render("# Burned *area*\n\n## Data", Style::plain());
        assert_eq!(text, "Burned area\n===========\n\nData\n----");
    }

    #[test]
    fn inline_markup_is_removed_in_plain_text() {
        let text = render(
            "Use **NBR** on *all* `tiles` with snake_case_names.",
            Style::plain(),
        );
        assert_eq!(text, "Use NBR on all tiles with snake_case_names.");
    }

    #[test]
    fn lists_quotes_links_and_code_blocks() {
        let markdown =
            "- one\n  * two\n> note\nSee [the docs](https://rhai.rs).\n```\nlet x = 1;\n```";
        let text = render(markdown, Style::plain());
        assert_eq!(
            text,
            "  • one\n    • two\n│ note\nSee the docs (https://rhai.rs).\n    let x = 1;"
        );
    }

    #[test]
    fn emphasis_and_code_continue_on_the_next_line_of_a_paragraph_or_item() {
        let markdown = "The **Normalized\nDifference Snow Index** uses it.\n\
                        - Use `s1::stack(p,\n  \"VH\")` then *look*.\n- next";
        let text = render(markdown, Style::plain());
        assert_eq!(
            text,
            "The Normalized\nDifference Snow Index uses it.\n  \u{2022} Use s1::stack(p,\n    \"VH\") then look.\n  \u{2022} next"
        );
        let coloured = render("a **b\nc** d", Style::forced());
        assert!(coloured.starts_with("a \x1b[1mb\nc\x1b[0m"), "{coloured:?}");
    }

    #[test]
    fn unclosed_marks_stay_literal() {
        assert_eq!(render("2 * 3 = 6, a_b", Style::plain()), "2 * 3 = 6, a_b");
        assert_eq!(render("[a] and [b](u)", Style::plain()), "[a] and b (u)");
    }
}
