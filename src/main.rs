//! The `cleope` command line.

use clap::{Args, Parser, Subcommand};
use cleope::runtime::config::{
    check_cpus, check_disk_entries, check_host_port, check_operations, check_url, parse_dialect,
    parse_duration, parse_layout, parse_size,
};
use cleope::runtime::{CellRange, Overrides, Prepared, Session, Settings, Terminal, exit_code};
use cleope::sandbox::wall;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod lazy_gdal;
mod repl;

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
    /// Type Rhai code and see the results at once (an interactive session)
    Repl(ReplArgs),
    /// Show a script cell by cell and run it step by step, for a class
    Step(StepArgs),
    /// Convert a script to a Jupyter notebook (.ipynb), or a notebook to a script
    Notebook(NotebookArgs),
    /// Write the API reference (docs/api.md) from the registered functions
    Docs(DocsArgs),
    /// Run the Jupyter kernel (`-f CONNECTION_FILE`), or install it for Jupyter
    Kernel(Box<KernelArgs>),
    /// Write the synthetic demo product archive (real formats, ENS layout, index.json)
    DemoArchive(DemoArchiveArgs),
    /// The local OData catalogue (ONDA and CDSE dialects) over a product archive
    Catalogue(CatalogueArgs),
}

#[derive(Args)]
struct CatalogueArgs {
    #[command(subcommand)]
    action: CatalogueAction,
}

#[derive(Subcommand)]
enum CatalogueAction {
    /// Serve an archive's index.json over HTTP on loopback, in both dialects
    Serve(ServeArgs),
    /// Write index.json for a folder or mount of real products (SAFE folders and zips, SEN3,
    /// netCDF, GRIB, GeoTIFF), read from their own metadata; re-runs update it
    Index(IndexArgs),
}

#[derive(Args)]
struct IndexArgs {
    /// The folder or mount holding the products
    #[arg(value_name = "DIR")]
    archive: PathBuf,
    /// How the folder arranges products: onda (<pseudopath>/<name>) or cdse (the S3Path, as /eodata)
    #[arg(long, value_name = "LAYOUT", default_value = "onda", value_parser = parse_layout)]
    layout: cleope::eo::ens::Layout,
    /// Compute MD5 and BLAKE3 of single-file products now (reads every byte)
    #[arg(long)]
    checksums: bool,
}

#[derive(Args)]
struct ServeArgs {
    /// The archive to serve: a folder with index.json (as `cleope demo-archive` writes)
    #[arg(long, value_name = "DIR")]
    archive: PathBuf,
    /// Where the catalogue listens (loopback only; port 0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Where CDSE downloads are redirected to (another port; 0 picks a free one)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    download_addr: std::net::SocketAddr,
    /// How long an ordered (archived) product takes to come online
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_span)]
    restore_delay: Duration,
    /// Orders one user may place in an hour
    #[arg(long, value_name = "N", default_value_t = 20)]
    order_quota: usize,
    /// The user name accepted for ONDA Basic auth and CDSE logins [default: anyone]
    #[arg(long, value_name = "USER", visible_aliases = ["onda-user", "cdse-user"], requires = "password_env")]
    user: Option<String>,
    /// The environment variable that holds that user's password (never the password itself)
    #[arg(long, value_name = "VAR", visible_aliases = ["onda-password-env", "cdse-password-env"], requires = "user")]
    password_env: Option<String>,
    /// Lifetime of CDSE access tokens
    #[arg(long, value_name = "DURATION", default_value = "600s", value_parser = parse_span)]
    token_lifetime: Duration,
    /// Status of CDSE's download redirect (301, 302, 303, 307 or 308)
    #[arg(long, value_name = "STATUS", default_value_t = 307)]
    redirect: u16,
    /// A SQLite file for the index and the orders (orders survive restarts) [default: in memory]
    #[arg(long, value_name = "FILE")]
    database: Option<PathBuf>,
    /// A fault to inject, e.g. kind=status,path=/odata/v1/Products,status=503,count=2 (repeatable)
    #[arg(long, value_name = "SPEC", value_parser = cleope::catalogue::Fault::parse)]
    fault: Vec<cleope::catalogue::Fault>,
    /// Serve the test hooks at /admin/faults and /admin/requests
    #[arg(long)]
    admin: bool,
}

/// A duration such as 10s, 1500ms or 2m (zero allowed).
fn parse_span(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| format!("'{text}' is not a duration; write e.g. 10s, 1500ms or 2m"))
}

#[derive(Args)]
struct DemoArchiveArgs {
    /// The folder to write the archive into (created; products in it are replaced)
    dir: PathBuf,
    /// Also write one real-size 10980 x 10980 Sentinel-2 tile, for benchmarks (about 1 GB)
    #[arg(long)]
    full_size_tile: bool,
}

#[derive(Args)]
struct RunArgs {
    /// The script to run (a .rhai file, optionally split into `// %%` cells)
    file: PathBuf,
    /// Run only these cells, numbered from 1: `3`, `2..5`, `..4` or `3..`
    #[arg(long, value_name = "A..B")]
    cells: Option<CellRange>,
    /// Print what the script would be granted (files, network, the
    /// operating-system wall) and exit without running it
    #[arg(long)]
    show_grants: bool,
    #[command(flatten)]
    session: SessionArgs,
}

#[derive(Args)]
struct ReplArgs {
    #[command(flatten)]
    session: SessionArgs,
}

#[derive(Args)]
struct StepArgs {
    /// The tutorial to step through (a .rhai file split into `// %%` cells)
    file: PathBuf,
    /// Step through only these cells, numbered from 1: `3`, `2..5`, `..4` or `3..`
    #[arg(long, value_name = "A..B")]
    cells: Option<CellRange>,
    #[command(flatten)]
    session: SessionArgs,
}

#[derive(Args)]
struct NotebookArgs {
    /// The file to convert: a .rhai script or an .ipynb notebook
    input: PathBuf,
    /// The file to write: an .ipynb notebook or a .rhai script (replaced if it exists)
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

/// Settings shared by every front-end; flags win over environment variables,
/// which win over the workspace's cleope.toml.
#[derive(Args)]
struct SessionArgs {
    /// Workspace folder (read-write) [default: ~/cleope]
    #[arg(long, env = "CLEOPE_WORKSPACE", value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// Product archive to read from (an ENS or /eodata mount) [default: the demo archive]
    #[arg(long, env = "CLEOPE_ARCHIVE", value_name = "DIR")]
    archive: Option<PathBuf>,
    /// How the archive lays out products: onda (<pseudopath>/<name>) or cdse (S3Path)
    #[arg(long, env = "CLEOPE_ARCHIVE_LAYOUT", value_name = "LAYOUT", value_parser = parse_layout)]
    archive_layout: Option<cleope::eo::ens::Layout>,
    /// OData catalogue base URL [default: a local catalogue over the archive]
    #[arg(long, env = "CLEOPE_CATALOGUE", value_name = "URL", value_parser = check_url)]
    catalogue: Option<String>,
    /// The catalogue's dialect: onda ($search) or cdse ($filter)
    #[arg(long, env = "CLEOPE_DIALECT", value_name = "DIALECT", value_parser = parse_dialect)]
    dialect: Option<cleope::eo::odata::Dialect>,
    /// Memory quota for the session [default: 2GiB]
    #[arg(long, env = "CLEOPE_MEMORY", value_name = "SIZE", value_parser = parse_size)]
    memory: Option<u64>,
    /// Threads for native work [default: 2]
    #[arg(long, env = "CLEOPE_CPUS", value_name = "N", value_parser = parse_cpus)]
    cpus: Option<usize>,
    /// Disk quota for the workspace [default: 20GB]
    #[arg(long, env = "CLEOPE_DISK", value_name = "SIZE", value_parser = parse_size)]
    disk: Option<u64>,
    /// Files and folders the workspace may hold [default: 100000]
    #[arg(long, env = "CLEOPE_DISK_ENTRIES", value_name = "N", value_parser = parse_disk_entries)]
    disk_entries: Option<u64>,
    /// Script operations allowed per run (cell) [default: 1000000000]
    #[arg(long, env = "CLEOPE_OPERATIONS", value_name = "N", value_parser = parse_operations)]
    operations: Option<u64>,
    /// Wall-clock time allowed per run (cell) [default: 300s]
    #[arg(long, env = "CLEOPE_TIME_LIMIT", value_name = "DURATION", value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// A folder scripts may also read (repeatable; CLEOPE_READ separates folders with ':')
    #[arg(
        long = "read",
        env = "CLEOPE_READ",
        value_name = "DIR",
        value_delimiter = ':'
    )]
    read: Vec<PathBuf>,
    /// An endpoint scripts may also select as their catalogue, without the
    /// configured account (repeatable; CLEOPE_ALLOW_NET separates them with ',')
    #[arg(long = "allow-net", env = "CLEOPE_ALLOW_NET", value_name = "HOST:PORT", value_delimiter = ',', value_parser = check_host_port)]
    allow_net: Vec<String>,
}

fn parse_cpus(text: &str) -> Result<usize, String> {
    let cpus = text
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    check_cpus(cpus)
}

fn parse_disk_entries(text: &str) -> Result<u64, String> {
    check_disk_entries(parse_count(text)?)
}

fn parse_operations(text: &str) -> Result<u64, String> {
    check_operations(parse_count(text)?)
}

/// A whole number, with `_` allowed between digits (`1_000_000`).
fn parse_count(text: &str) -> Result<u64, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))
}

impl SessionArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            workspace: self.workspace.clone(),
            archive: self.archive.clone(),
            memory: self.memory,
            cpus: self.cpus,
            disk: self.disk,
            disk_entries: self.disk_entries,
            operations: self.operations,
            time_limit: self.time_limit,
            catalogue_url: self.catalogue.clone(),
            dialect: self.dialect,
            archive_layout: self.archive_layout,
            read: self.read.clone(),
            allow_net: self.allow_net.clone(),
        }
    }
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct KernelArgs {
    #[command(subcommand)]
    action: Option<KernelAction>,
    /// The connection file Jupyter wrote for this kernel
    #[arg(short = 'f', long = "connection-file", value_name = "CONNECTION_FILE")]
    connection_file: Option<PathBuf>,
    #[command(flatten)]
    session: SessionArgs,
}

#[derive(Subcommand)]
enum KernelAction {
    /// Write the kernelspec (kernel.json and logos) where Jupyter finds it
    Install(InstallArgs),
}

#[derive(Args)]
struct InstallArgs {
    /// For the current user, in their Jupyter folder (the default)
    #[arg(long, conflicts_with_all = ["sys_prefix", "prefix"])]
    user: bool,
    /// Into the active Python environment (VIRTUAL_ENV, CONDA_PREFIX or python3's sys.prefix)
    #[arg(long, conflicts_with = "prefix")]
    sys_prefix: bool,
    /// Under PREFIX/share/jupyter/kernels; /usr/local installs it for every user
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<PathBuf>,
    /// The kernel's name (ASCII letters, digits, '-', '.', '_')
    #[arg(long, default_value = "rhai")]
    name: String,
    /// The name Jupyter shows in its launcher and kernel menus
    #[arg(long, default_value = "Rhai (cleope)")]
    display_name: String,
    /// Quota and path settings given here are written into kernel.json as
    /// CLEOPE_* environment variables of the kernel
    #[command(flatten)]
    session: SessionArgs,
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
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    lazy_gdal::install();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run(args),
        Command::Repl(args) => repl(args),
        Command::Step(args) => step(args),
        Command::Notebook(args) => notebook(args),
        Command::Docs(args) => docs(args),
        Command::Kernel(args) => kernel(*args),
        Command::DemoArchive(args) => demo_archive(args),
        Command::Catalogue(args) => match args.action {
            CatalogueAction::Serve(args) => catalogue_serve(args),
            CatalogueAction::Index(args) => catalogue_index(args),
        },
    };
    ExitCode::from(code as u8)
}

fn demo_archive(args: DemoArchiveArgs) -> i32 {
    let started = std::time::Instant::now();
    let options = cleope::demo::DemoOptions {
        full_size_tile: args.full_size_tile,
    };
    match cleope::demo::generate(&args.dir, options) {
        Ok(index) => {
            let offline = index.products.iter().filter(|p| !p.online).count();
            println!(
                "wrote {} products ({offline} offline) to {} in {:.1} s",
                index.products.len(),
                args.dir.display(),
                started.elapsed().as_secs_f64()
            );
            exit_code::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::SCRIPT_ERROR
        }
    }
}

fn catalogue_index(args: IndexArgs) -> i32 {
    use cleope::catalogue::indexer::{IndexOptions, index_archive};
    if !args.archive.is_dir() {
        eprintln!(
            "error: {} is not a folder; give the folder or mount that holds the products",
            args.archive.display()
        );
        return 2;
    }
    let options = IndexOptions {
        layout: args.layout,
        checksums: args.checksums,
    };
    match index_archive(&args.archive, options) {
        Ok(report) => {
            println!(
                "indexed {} products into {} ({} new or changed, {} unchanged, {} gone)",
                report.added + report.kept,
                args.archive.join("index.json").display(),
                report.added,
                report.kept,
                report.removed
            );
            for (path, why) in &report.skipped {
                let shown = path.strip_prefix(&args.archive).unwrap_or(path);
                eprintln!("skipped {}: {why}", shown.display());
            }
            0
        }
        Err(error) => {
            eprintln!("error: {error}");
            1
        }
    }
}

fn catalogue_serve(args: ServeArgs) -> i32 {
    use cleope::catalogue::{Account, Server, ServerConfig};
    let mut config = ServerConfig::new(&args.archive);
    config.addr = args.addr;
    config.download_addr = args.download_addr;
    config.restore_delay = args.restore_delay;
    config.order_quota = args.order_quota;
    config.token_lifetime = args.token_lifetime;
    config.redirect_status = args.redirect;
    config.database = args.database;
    config.faults = args.fault;
    config.admin = args.admin;
    if let (Some(user), Some(variable)) = (&args.user, &args.password_env) {
        match std::env::var(variable) {
            Ok(password) if !password.is_empty() => {
                config.accounts.push(Account::new(user, password))
            }
            _ => {
                return usage_error(format!(
                    "the environment variable {variable} (--password-env) is not set: \
                     export it with the password of {user}"
                ));
            }
        }
    }
    let server = match Server::start(config) {
        Ok(server) => server,
        Err(e) => return usage_error(e.to_string()),
    };
    println!(
        "indexed {} products in {:.2} s from {}",
        server.product_count(),
        server.indexing_time().as_secs_f64(),
        args.archive.display()
    );
    println!("ONDA catalogue:  {}", server.onda_base());
    println!("CDSE catalogue:  {}", server.cdse_base());
    println!("STAC API:        {}/", server.stac_base());
    println!("CDSE token URL:  {}", server.token_url());
    println!("CDSE downloads:  {}", server.download_base());
    if let Some(admin) = server.admin_url() {
        println!("test hooks:      {admin}/faults, {admin}/requests");
    }
    match &args.user {
        Some(user) => println!("account:         {user}"),
        None => println!("account:         any user name and password (no --user given)"),
    }
    println!("press Ctrl-C to stop");
    let (stop, stopped) = std::sync::mpsc::channel();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop.send(());
    }) {
        eprintln!("error: cannot catch Ctrl-C: {e}");
        return exit_code::SCRIPT_ERROR;
    }
    let _ = stopped.recv();
    drop(server);
    println!("stopped");
    exit_code::SUCCESS
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
    let unreadable = |e: std::io::Error| {
        let why = if e.kind() == std::io::ErrorKind::PermissionDenied && wall::status().is_some() {
            "it lies outside the folders this session may read (`:grants` lists them); \
             copy it into the workspace, or start cleope with --read FOLDER"
                .to_string()
        } else {
            e.to_string()
        };
        format!("cannot read {}: {why}", path.display())
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_SCRIPT_BYTES {
        return Err(format!(
            "{} is {size} bytes; a script may be at most {MAX_SCRIPT_BYTES} bytes (is it a data file?)",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(unreadable)
}

/// The folder of a script given on the command line (`.` for a bare name).
fn script_folder(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The settings from flags, environment and the configuration files; the
/// secrets they were read from leave the environment at once.
///
/// Called while the process has a single thread (see `forget_secrets`).
fn load_settings(args: &SessionArgs) -> Result<Settings, String> {
    let settings = Settings::load(&args.overrides()).map_err(|e| e.to_string());
    // SAFETY: main has started no thread yet: clap and the settings loader
    // run on the main thread only.
    unsafe {
        cleope::sandbox::process::forget_secrets(&cleope::runtime::accounts::SECRET_VARIABLES)
    };
    settings
}

/// A session printing to the terminal, inside the operating-system wall:
/// settings, grants (and the files cleope itself must keep writing, such
/// as the REPL's history), then the wall, then the session and its threads.
/// `Err` holds the exit code after the message.
fn open_session(args: &SessionArgs, own_files: Vec<PathBuf>) -> Result<Session, i32> {
    let settings = load_settings(args).map_err(usage_error)?;
    let mut prepared = Prepared::new(&settings).map_err(|e| usage_error(e.to_string()))?;
    prepared.grants.own_files.extend(own_files);
    raise_wall(&prepared);
    Session::start(settings, prepared, Arc::new(Terminal)).map_err(|e| usage_error(e.to_string()))
}

/// Confines the process to the grants, and points temporary files at the
/// session's scratch folder (the only place outside the workspace the
/// wall lets cleope write). Called while the process has a single thread.
fn raise_wall(prepared: &Prepared) -> &'static wall::Status {
    // SAFETY: no thread exists yet that could read the environment.
    unsafe { std::env::set_var("TMPDIR", &prepared.grants.scratch) };
    let status = wall::raise(&wall::Plan::of(&prepared.grants));
    if let Some(warning) = status.warning() {
        eprintln!("{warning}");
    }
    status
}

/// Runs `work` (which runs scripts) on a thread with a roomy stack and waits
/// for it; `Err` holds the exit code after reporting why it failed.
fn on_script_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, i32> {
    let worker = std::thread::Builder::new()
        .name("cleope-script".into())
        .stack_size(SCRIPT_STACK_BYTES)
        .spawn(work)
        .map_err(|e| usage_error(format!("cannot start the script thread: {e}")))?;
    worker.join().map_err(|_| {
        eprintln!(
            "error[InternalError]: cleope itself failed while running the script; please report this"
        );
        exit_code::SCRIPT_ERROR
    })
}

fn run(args: RunArgs) -> i32 {
    let text = match read_script(&args.file) {
        Ok(text) => text,
        Err(message) => return usage_error(message),
    };
    if args.show_grants {
        return show_grants(&args.session);
    }
    let mut session = match open_session(&args.session, Vec::new()) {
        Ok(session) => session,
        Err(code) => return code,
    };
    // A script outside the granted folders still runs; only its imports of
    // neighbouring modules fail, with the reason.
    let _ = session.set_script_dir(script_folder(&args.file));
    install_interrupt_handler(&session);
    let source = args.file.display().to_string();
    let cells = args.cells;
    match on_script_thread(move || session.run_cells(&source, &text, cells)) {
        Ok(Ok(_)) => exit_code::SUCCESS,
        Ok(Err(error)) => {
            eprint!("{error}");
            error.exit_code()
        }
        Err(code) => code,
    }
}

/// `cleope run --show-grants`: the grants and the wall, without running.
fn show_grants(args: &SessionArgs) -> i32 {
    let settings = match load_settings(args) {
        Ok(settings) => settings,
        Err(message) => return usage_error(message),
    };
    let prepared = match Prepared::new(&settings) {
        Ok(prepared) => prepared,
        Err(e) => return usage_error(e.to_string()),
    };
    for note in &settings.ignored {
        println!("warning: {note}");
    }
    raise_wall(&prepared);
    match Session::start(settings, prepared, Arc::new(Terminal)) {
        Ok(session) => println!("{}", session.host().grants_report()),
        Err(e) => return usage_error(e.to_string()),
    }
    exit_code::SUCCESS
}

fn repl(args: ReplArgs) -> i32 {
    let session = match open_session(&args.session, repl::history_files()) {
        Ok(session) => session,
        Err(code) => return code,
    };
    install_interrupt_handler(&session);
    on_script_thread(move || repl::run_repl(session)).unwrap_or_else(|code| code)
}

fn step(args: StepArgs) -> i32 {
    let text = match read_script(&args.file) {
        Ok(text) => text,
        Err(message) => return usage_error(message),
    };
    let tutorial = match repl::step::Tutorial::new(&args.file, text, args.cells) {
        Ok(tutorial) => tutorial,
        Err(message) => return usage_error(message),
    };
    let mut session = match open_session(&args.session, repl::history_files()) {
        Ok(session) => session,
        Err(code) => return code,
    };
    let _ = session.set_script_dir(script_folder(&args.file));
    install_interrupt_handler(&session);
    on_script_thread(move || repl::run_step(session, &tutorial)).unwrap_or_else(|code| code)
}

fn notebook(args: NotebookArgs) -> i32 {
    let converted = match repl::notebook::convert(&args.input, &args.output) {
        Ok(converted) => converted,
        Err(e) => return usage_error(e.to_string()),
    };
    for warning in &converted.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "wrote {} ({} code cells, {} markdown cells)",
        args.output.display(),
        converted.code_cells,
        converted.markdown_cells
    );
    exit_code::SUCCESS
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

fn kernel(args: KernelArgs) -> i32 {
    match (args.action, args.connection_file) {
        (Some(KernelAction::Install(install)), _) => install_kernel(install),
        (None, Some(file)) => run_kernel(&file, &args.session),
        (None, None) => usage_error(
            "give the connection file Jupyter wrote (cleope kernel -f FILE), \
             or install the kernel with `cleope kernel install`"
                .into(),
        ),
    }
}

fn run_kernel(connection_file: &Path, session: &SessionArgs) -> i32 {
    // A bad configuration is reported in the notebook, not as a dead kernel.
    let settings = load_settings(session);
    let launch = match cleope::kernel::Launch::prepare(connection_file, settings) {
        Ok(launch) => launch,
        Err(e) => return usage_error(e.to_string()),
    };
    // SAFETY: no thread exists yet that could read the environment.
    if let Some(scratch) = launch.scratch() {
        unsafe { std::env::set_var("TMPDIR", scratch) };
    }
    launch.raise_wall();
    match cleope::kernel::run(launch) {
        Ok(()) => exit_code::SUCCESS,
        Err(e) => usage_error(e.to_string()),
    }
}

fn install_kernel(args: InstallArgs) -> i32 {
    use cleope::kernel::install::{Kernelspec, Location, install, settings_env};
    let location = match (args.prefix, args.sys_prefix) {
        (Some(prefix), _) => Location::Prefix(prefix),
        (None, true) => Location::SysPrefix,
        (None, false) => Location::User,
    };
    let program = match std::env::current_exe().and_then(|p| p.canonicalize()) {
        Ok(program) => program,
        Err(e) => return usage_error(format!("cannot find the cleope program itself: {e}")),
    };
    let spec = Kernelspec {
        name: args.name,
        display_name: args.display_name,
        program,
        env: settings_env(&args.session.overrides()),
    };
    match install(&spec, &location) {
        Ok(installed) => {
            println!(
                "installed the {} kernel in {}",
                spec.name,
                installed.kernelspec.display()
            );
            println!(
                "installed Rhai highlighting for JupyterLab in {}",
                installed.labextension.display()
            );
            exit_code::SUCCESS
        }
        Err(e) => usage_error(e.to_string()),
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
