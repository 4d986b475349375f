//! The `cleope` command line.

use clap::{Args, Parser, Subcommand};
use cleope::runtime::config::{check_cpus, check_operations, parse_duration, parse_size};
use cleope::runtime::{CellRange, Overrides, Session, Settings, Terminal, exit_code};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    script error (syntax or runtime error, refused path or module)
  2    usage error (bad arguments, unreadable file, invalid configuration)
  3    quota or limit exceeded (memory, disk, time, operations, data size, call depth)
  130  interrupted (Ctrl-C)";

#[derive(Parser)]
#[command(name = "cleope", version, about = "Earth-observation teaching scripts in a sandboxed Rhai runtime", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a script (all its cells, or a range of them) inside the sandbox
    Run(RunArgs),
    /// Write the API reference (docs/api.md) from the registered functions
    Docs(DocsArgs),
}

#[derive(Args)]
struct RunArgs {
    /// The script to run (a .rhai file, optionally split into `// %%` cells)
    file: PathBuf,
    /// Run only these cells, numbered from 1: `3`, `2..5`, `..4` or `3..`
    #[arg(long, value_name = "A..B")]
    cells: Option<CellRange>,
    #[command(flatten)]
    session: SessionArgs,
}

/// Settings shared by every front-end; flags win over environment variables,
/// which win over the workspace's cleope.toml.
#[derive(Args)]
struct SessionArgs {
    /// Workspace folder (read-write) [default: ~/cleope]
    #[arg(long, env = "CLEOPE_WORKSPACE", value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// Product archive to read from (an ENS or /eodata mount)
    #[arg(long, env = "CLEOPE_ARCHIVE", value_name = "DIR")]
    archive: Option<PathBuf>,
    /// Memory quota for the session [default: 2GiB]
    #[arg(long, env = "CLEOPE_MEMORY", value_name = "SIZE", value_parser = parse_size)]
    memory: Option<u64>,
    /// Threads for native work [default: 2]
    #[arg(long, env = "CLEOPE_CPUS", value_name = "N", value_parser = parse_cpus)]
    cpus: Option<usize>,
    /// Disk quota for the workspace [default: 20GB]
    #[arg(long, env = "CLEOPE_DISK", value_name = "SIZE", value_parser = parse_size)]
    disk: Option<u64>,
    /// Script operations allowed per run (cell) [default: 1000000000]
    #[arg(long, env = "CLEOPE_OPERATIONS", value_name = "N", value_parser = parse_operations)]
    operations: Option<u64>,
    /// Wall-clock time allowed per run (cell) [default: 300s]
    #[arg(long, env = "CLEOPE_TIME_LIMIT", value_name = "DURATION", value_parser = parse_duration)]
    time_limit: Option<Duration>,
}

fn parse_cpus(text: &str) -> Result<usize, String> {
    let cpus = text
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    check_cpus(cpus)
}

fn parse_operations(text: &str) -> Result<u64, String> {
    let ops = text
        .replace('_', "")
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    check_operations(ops)
}

impl SessionArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            workspace: self.workspace.clone(),
            archive: self.archive.clone(),
            memory: self.memory,
            cpus: self.cpus,
            disk: self.disk,
            operations: self.operations,
            time_limit: self.time_limit,
        }
    }
}

#[derive(Args)]
struct DocsArgs {
    /// Where to write the reference
    #[arg(long, default_value = "docs/api.md", value_name = "FILE")]
    out: PathBuf,
    /// Only check that the file is up to date (exit 1 if not)
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run(args),
        Command::Docs(args) => docs(args),
    };
    ExitCode::from(code as u8)
}

fn usage_error(message: String) -> i32 {
    eprintln!("error: {message}");
    exit_code::USAGE
}

/// Rhai's evaluator recurses; a roomy stack keeps deep (but legal) scripts
/// far from the native stack's end.
const SCRIPT_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Scripts are written by people: anything bigger is not a script.
const MAX_SCRIPT_BYTES: u64 = 16 * 1024 * 1024;

fn read_script(path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if size > MAX_SCRIPT_BYTES {
        return Err(format!(
            "{} is {size} bytes; a script may be at most {MAX_SCRIPT_BYTES} bytes (is it a data file?)",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn run(args: RunArgs) -> i32 {
    let text = match read_script(&args.file) {
        Ok(text) => text,
        Err(message) => return usage_error(message),
    };
    let settings = match Settings::load(&args.session.overrides()) {
        Ok(settings) => settings,
        Err(e) => return usage_error(e.to_string()),
    };
    let mut session = match Session::new(settings, Arc::new(Terminal)) {
        Ok(session) => session,
        Err(e) => return usage_error(e.to_string()),
    };
    session.set_script_dir(
        args.file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    );
    install_interrupt_handler(&session);
    let source = args.file.display().to_string();
    let cells = args.cells;
    let worker = std::thread::Builder::new()
        .name("cleope-script".into())
        .stack_size(SCRIPT_STACK_BYTES)
        .spawn(move || session.run_cells(&source, &text, cells));
    let outcome = match worker {
        Ok(handle) => handle.join(),
        Err(e) => return usage_error(format!("cannot start the script thread: {e}")),
    };
    match outcome {
        Ok(Ok(_)) => exit_code::SUCCESS,
        Ok(Err(error)) => {
            eprint!("{error}");
            error.exit_code()
        }
        Err(_) => {
            eprintln!(
                "error[InternalError]: cleope itself failed while running the script; please report this"
            );
            exit_code::SCRIPT_ERROR
        }
    }
}

/// The first Ctrl-C interrupts the script (its variables are kept); a
/// second one, if the script does not stop, ends the process.
fn install_interrupt_handler(session: &Session) {
    let flag = session.interrupt_flag();
    let result = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted twice: stopping now");
            std::process::exit(exit_code::INTERRUPTED);
        }
    });
    if let Err(e) = result {
        eprintln!("warning: Ctrl-C will end the process instead of interrupting the script ({e})");
    }
}

fn docs(args: DocsArgs) -> i32 {
    let markdown = cleope::docs::render_markdown(&cleope::docs::collect());
    if args.check {
        let current = std::fs::read_to_string(&args.out).unwrap_or_default();
        if current == markdown {
            println!("{} is up to date", args.out.display());
            return exit_code::SUCCESS;
        }
        eprintln!(
            "{} is out of date: run `cleope docs` and commit it",
            args.out.display()
        );
        return exit_code::SCRIPT_ERROR;
    }
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return usage_error(format!("cannot create {}: {e}", parent.display()));
    }
    match std::fs::write(&args.out, markdown) {
        Ok(()) => {
            println!("wrote {}", args.out.display());
            exit_code::SUCCESS
        }
        Err(e) => usage_error(format!("cannot write {}: {e}", args.out.display())),
    }
}
