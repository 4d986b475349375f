//! `cleope repl` driven as a student uses it: on a real terminal (tmux),
//! typing, pressing Tab, Enter, Ctrl-C and Ctrl-D, and reading the screen.

use crate::common;

use common::cleope_bin;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long the screen may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(5);

/// A tmux server of its own running `cleope repl` in a 120 x 40 terminal.
struct Terminal {
    socket: String,
}

impl Terminal {
    /// Starts the REPL with `home` as HOME and data folder (for the history)
    /// and a workspace inside it; `extra` are more flags for `cleope repl`.
    fn start(home: &Path, extra: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "cleope-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let data = home.join("data");
        let workspace = home.join("workspace");
        // After the REPL exits the pane stays, showing its exit status.
        let command = format!(
            "env -u CLEOPE_TIME_LIMIT -u CLEOPE_OPERATIONS -u CLEOPE_MEMORY \
             HOME='{}' XDG_DATA_HOME='{}' '{}' repl --workspace '{}' {extra}; \
             echo \"[exited $?]\"; sleep 60",
            home.display(),
            data.display(),
            cleope_bin(),
            workspace.display()
        );
        let terminal = Self { socket };
        terminal.tmux(
            &[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "40",
                "-s",
                "main",
            ],
            Some(&command),
        );
        terminal.wait_for_prompt(1);
        terminal
    }

    fn tmux(&self, args: &[&str], last: Option<&str>) -> Output {
        let mut command = Command::new("tmux");
        command.arg("-L").arg(&self.socket).args(args);
        if let Some(last) = last {
            command.arg(last);
        }
        let output = command.output().expect("tmux is installed");
        assert!(
            output.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Types `text` as it is (tmux would read a final `;` as its own separator).
    fn type_text(&self, text: &str) {
        let escaped = match text.strip_suffix(';') {
            Some(rest) => format!("{rest}\\;"),
            None => text.to_string(),
        };
        self.tmux(&["send-keys", "-t", "main", "-l"], Some(&escaped));
    }

    /// Presses keys by tmux name: `Enter`, `Tab`, `Up`, `C-c`, `C-d`, `C-u`.
    fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "main", key], None);
    }

    /// Types a line and presses Enter.
    fn enter(&self, line: &str) {
        self.type_text(line);
        self.press("Enter");
    }

    fn screen(&self) -> String {
        let output = self.tmux(&["capture-pane", "-p", "-J", "-t", "main"], None);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits for the empty prompt `[number]>`: the REPL is then reading
    /// keys itself. Keys sent earlier could reach the terminal between two
    /// prompts, where it turns Ctrl-C and Ctrl-D into signals instead.
    fn wait_for_prompt(&self, number: usize) -> String {
        let prompt = format!("[{number}]>");
        self.wait_until(&format!("the prompt {prompt}"), |screen| {
            screen.lines().any(|line| line.trim_end() == prompt)
        })
    }

    /// Waits until the screen shows `text`, and returns the screen.
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("the screen to show {text:?}"), |screen| {
            screen.contains(text)
        })
    }

    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn home() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn tab_completes_functions_variables_and_methods() {
    let home = home();
    let repl = Terminal::start(home.path(), "");
    repl.type_text("read_cs");
    repl.press("Tab");
    repl.wait_for("[1]> read_csv");
    repl.press("C-u");

    repl.enter("let ndvi_threshold = 0.25;");
    repl.wait_for_prompt(2);
    repl.type_text("ndvi_thr");
    repl.press("Tab");
    repl.type_text(" * 2.0");
    repl.press("Enter");
    repl.wait_for("=> 0.5");
    repl.wait_for_prompt(3);

    repl.enter("let mission = \"sentinel\";");
    repl.wait_for_prompt(4);
    repl.type_text("mission.to_upp");
    repl.press("Tab");
    repl.type_text("()");
    repl.press("Enter");
    repl.wait_for("=> \"SENTINEL\"");
}

#[test]
fn unfinished_input_continues_until_it_is_complete() {
    let home = home();
    let repl = Terminal::start(home.path(), "");
    repl.enter("fn twice(x) {");
    repl.enter("x * 2");
    // Still the same entry: no result and no new prompt yet, and the
    // continuation lines have their own prompt.
    let screen = repl.wait_for("...> x * 2");
    assert!(
        screen.contains("[1]> fn twice(x) {\n...> x * 2"),
        "{screen}"
    );
    std::thread::sleep(Duration::from_millis(100));
    let screen = repl.screen();
    assert!(
        !screen.contains("[2]>") && !screen.contains("error"),
        "{screen}"
    );
    repl.enter("}");
    repl.wait_for_prompt(2);
    repl.enter("twice(21)");
    repl.wait_for("=> 42");
    repl.wait_for_prompt(3);

    // A blank line runs an unfinished entry anyway, and shows where it stops.
    repl.enter("let broken = [1, 2");
    repl.wait_for("[3]> let broken = [1, 2\n...>");
    repl.press("Enter");
    repl.wait_for("error[SyntaxError]");
}

#[test]
fn help_shows_documentation_and_who_lists_variables() {
    let home = home();
    let repl = Terminal::start(home.path(), "");
    repl.enter(":help read_csv");
    let screen = repl.wait_for("Example:");
    assert!(screen.contains("read_csv(path: string)"), "{screen}");
    repl.wait_for_prompt(1);

    repl.enter("let sites = [#{ name: \"Etna\" }];");
    repl.wait_for_prompt(2);
    repl.enter("let cloud_cover = 12.5;");
    repl.wait_for_prompt(3);
    repl.enter(":who");
    let line_of = |screen: &str, name: &str| {
        let line = screen.lines().find(|l| l.starts_with(name));
        line.unwrap_or_default().to_string()
    };
    let screen = repl.wait_until(":who's table", |s| !line_of(s, "sites ").is_empty());
    assert!(
        line_of(&screen, "cloud_cover").contains("float"),
        "{screen}"
    );
    assert!(line_of(&screen, "sites ").contains("array"), "{screen}");

    // A typo gets the nearest name.
    repl.enter(":help plott");
    let screen = repl.wait_for("did you mean plot?");
    assert!(
        screen.contains("No function or variable is named `plott`"),
        "{screen}"
    );
}

#[test]
fn help_and_who_list_the_students_functions_with_their_doc_comments() {
    let home = home();
    let repl = Terminal::start(home.path(), "");
    // A doc comment continues the entry: the `fn` comes on the next line.
    repl.enter("/// Normalised difference of two bands.");
    repl.wait_for("bands.\n...>");
    repl.enter("/// Between -1 and 1.");
    repl.wait_for("...> /// Between -1 and 1.\n...>");
    repl.enter("fn nd(a, b) { (a - b) / (a + b) }");
    repl.wait_for_prompt(2);
    repl.enter("fn helper() { 1 }");
    repl.wait_for_prompt(3);

    repl.enter(":help");
    let screen = repl.wait_for("Your functions");
    assert!(
        screen.contains("  helper()  \n") || screen.contains("  helper()\n"),
        "{screen}"
    );
    assert!(
        screen.contains("  nd(a, b)  Normalised difference of two bands."),
        "{screen}"
    );
    repl.press("C-l");
    repl.enter(":help nd");
    let screen = repl.wait_for("Between -1 and 1.");
    assert!(
        screen
            .contains("nd(a, b)  (your function)\n\nNormalised difference of two bands.\nBetween"),
        "{screen}"
    );
    repl.enter(":who");
    let screen = repl.wait_for("function");
    let line = screen
        .lines()
        .find(|l| l.starts_with("nd "))
        .unwrap_or_default();
    assert!(
        line.contains("function") && line.contains("nd(a, b)  Normalised difference"),
        "{screen}"
    );
}

#[test]
fn floats_are_short_unless_exact_and_long_values_wrap_to_the_terminal() {
    let home = home();
    let repl = Terminal::start(home.path(), "");
    repl.enter("let ratio = 0.00022514071294559118;");
    repl.wait_for_prompt(2);
    repl.enter("[ratio, 1.75302719957514e18, 0.1, 3.0]");
    repl.wait_for("=> [0.000225141, 1.75303e18, 0.1, 3.0]");
    repl.enter(":who");
    let screen = repl.wait_for("ratio  float");
    assert!(screen.contains("ratio  float  0.000225141"), "{screen}");
    // print() keeps every digit.
    repl.enter("print(ratio)");
    repl.wait_for("\n0.00022514071294559118");
    repl.enter(":exact");
    repl.wait_for("every digit");
    repl.enter("ratio");
    repl.wait_for("=> 0.00022514071294559118");
    repl.enter(":exact");
    repl.press("C-l");

    // A map of maps longer than the 120-column terminal: one key a line.
    repl.enter(
        "let m = #{ name: \"Sentinel-2\", kind: \"multispectral optical\", launched: 2015 };",
    );
    repl.wait_for_prompt(6);
    repl.enter("#{ s2a: m, s2b: m }");
    let screen = repl.wait_for("\n}");
    let expected = "=>\n#{\n    \"s2a\": #{\"kind\": \"multispectral optical\", \"launched\": 2015, \"name\": \"Sentinel-2\"},\n";
    assert!(screen.contains(expected), "{screen}");
    assert!(screen.lines().all(|l| l.chars().count() <= 120), "{screen}");
}

#[test]
fn errors_show_the_line_with_a_caret() {
    let home = home();
    let repl = Terminal::start(home.path(), "");
    repl.enter("let area = width * 2;");
    let screen = repl.wait_for("= hint:");
    assert!(screen.contains("error[VariableNotFound]"), "{screen}");
    assert!(screen.contains("--> <repl:1>:1:12"), "{screen}");
    assert!(screen.contains(" 1 | let area = width * 2;"), "{screen}");
    assert!(
        screen.contains("   |            ^"),
        "caret under `width`:\n{screen}"
    );
}

#[test]
fn ctrl_c_interrupts_running_code_and_keeps_the_variables() {
    let home = home();
    // A short time limit: if Ctrl-C were lost, the test fails in seconds, not minutes.
    let repl = Terminal::start(home.path(), "--time-limit 4s");
    repl.enter("let kept = 41;");
    repl.wait_for_prompt(2);
    repl.enter("loop { kept += 0; }");
    // Let the loop start before interrupting it.
    std::thread::sleep(Duration::from_millis(300));
    repl.press("C-c");
    let screen = repl.wait_for_prompt(3);
    assert!(screen.contains("error[Interrupted]"), "{screen}");
    repl.enter("kept + 1");
    repl.wait_for("=> 42");
    repl.wait_for_prompt(4);
    // Ctrl-C at the prompt only clears the line; Ctrl-D leaves.
    repl.type_text("forgotten");
    repl.wait_for("[4]> forgotten");
    repl.press("C-c");
    repl.wait_for_prompt(4);
    repl.press("C-d");
    let screen = repl.wait_for("[exited");
    assert!(screen.contains("[exited 0]"), "{screen}");
}

#[test]
fn history_persists_across_runs() {
    let home = home();
    let first = Terminal::start(home.path(), "");
    first.enter("let history_marker = 4242;");
    first.wait_for_prompt(2);
    first.press("C-d");
    first.wait_for("[exited 0]");
    drop(first);
    let file = home.path().join("data/cleope/history");
    let saved = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        saved.contains("let history_marker = 4242;"),
        "{file:?}: {saved}"
    );

    let second = Terminal::start(home.path(), "");
    second.press("Up");
    second.wait_for("[1]> let history_marker = 4242;");
}
