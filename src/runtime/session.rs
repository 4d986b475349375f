//! The session every front-end shares: one engine, one scope of variables,
//! the functions defined so far, and the quotas.
//!
//! Code arrives in chunks (a file, a cell, a REPL entry). Variables persist in
//! the [`Scope`]; functions persist in an AST from which executed statements
//! are cleared after each chunk (the pattern of Rhai's own REPL). An error,
//! a quota breach or an interrupt ends the chunk, never the session.

use super::cells::{Cell, CellKind, CellRange, split_cells};
use super::config::Settings;
use super::display::{DisplaySink, Stream};
use super::errors::{ErrorClass, ScriptError, SourceMap};
use super::grants::{PrepareError, Prepared};
use super::guard::Guard;
use super::host::Host;
use super::resolver::{ConfinedResolver, ScriptFolder, prelude_module};
use crate::sandbox::{Cancel, DiskBudget, DiskLimits, MemoryBudget, Workspace};
use rhai::debugger::{DebuggerCommand, DebuggerEvent};
use rhai::{
    AST, ASTNode, Dynamic, Engine, EvalAltResult, EvalContext, Expr, Module, Position, Scope,
    Shared, Stmt,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

/// A piece of code to run, and the name errors call it by.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// The name used in error messages (a file path, `cell[3]`, `<repl:4>`).
    pub source: &'a str,
    pub code: &'a str,
}

impl<'a> Chunk<'a> {
    pub fn new(source: &'a str, code: &'a str) -> Self {
        Self { source, code }
    }
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot open the workspace {path}: {error}")]
    Workspace {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Grants(#[from] PrepareError),
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
}

/// Modules resolved during a run, by name (shared with the resolver).
type ResolvedModules = Arc<Mutex<HashMap<String, Shared<Module>>>>;

pub struct Session {
    engine: Engine,
    resolved: ResolvedModules,
    /// Modules imported by earlier chunks, by alias.
    imports: HashMap<String, Shared<Module>>,
    scope: Scope<'static>,
    functions: AST,
    host: Arc<Host>,
    guard: Arc<Guard>,
    sources: Arc<SourceMap>,
    script_dir: Arc<RwLock<ScriptFolder>>,
    settings: Settings,
}

impl Session {
    /// Computes the session's grants, opens the workspace and builds a
    /// sandboxed engine with the API registered (no operating-system wall:
    /// front-ends that raise one use [`Prepared::new`] and [`Session::start`]).
    pub fn new(settings: Settings, display: Arc<dyn DisplaySink>) -> Result<Self, SetupError> {
        let prepared = Prepared::new(&settings)?;
        Self::start(settings, prepared, display)
    }

    /// Starts a session within grants prepared (and perhaps walled) before.
    pub fn start(
        settings: Settings,
        mut prepared: Prepared,
        display: Arc<dyn DisplaySink>,
    ) -> Result<Self, SetupError> {
        let mut workspace =
            Workspace::open(&settings.workspace).map_err(|error| SetupError::Workspace {
                path: settings.workspace.clone(),
                error,
            })?;
        for root in &prepared.grants.read {
            workspace.add_read_only(&root.label, &root.path);
        }
        let disk_limits = DiskLimits {
            bytes: settings.quota.disk,
            entries: settings.quota.disk_entries,
        };
        let disk = DiskBudget::open(workspace.root(), disk_limits).map_err(|error| {
            SetupError::Workspace {
                path: settings.workspace.clone(),
                error,
            }
        })?;
        crate::eo::gdal::library::configure(settings.quota.memory);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.quota.cpus)
            .thread_name(|i| format!("cleope-worker-{i}"))
            .start_handler(|_| crate::eo::gdal::hdf5::silence_on_this_thread())
            .build()
            .map_err(|e| SetupError::Threads {
                threads: settings.quota.cpus,
                message: e.to_string(),
            })?;
        let cancel = Arc::new(Cancel::default());
        let host = Arc::new(Host::new(
            workspace,
            MemoryBudget::new(settings.quota.memory),
            disk,
            Arc::clone(&cancel),
            pool,
            display,
            settings.quota.clone(),
            settings.limits.clone(),
            crate::runtime::data_access::DataAccess::new(&settings, &mut prepared),
            prepared,
        ));
        for note in &settings.ignored {
            host.add_notice(format!("warning: {note}"));
        }
        let guard = Guard::new(cancel, settings.quota.clone());
        let sources = Arc::new(SourceMap::default());
        let script_dir = Arc::new(RwLock::new(ScriptFolder::None));
        let (engine, resolved) = build_engine(&settings, &host, &guard, &sources, &script_dir);
        Ok(Self {
            engine,
            resolved,
            imports: HashMap::new(),
            scope: Scope::new(),
            functions: AST::empty(),
            host,
            guard,
            sources,
            script_dir,
            settings,
        })
    }

    /// Runs a chunk that is a source of its own (a file, a cell, a REPL
    /// entry); its variables and functions stay for the next one.
    pub fn run(&mut self, chunk: Chunk) -> Result<Dynamic, ScriptError> {
        self.sources.add_source(chunk.source, chunk.code);
        self.run_part(chunk, 1)
    }

    /// Runs a chunk that starts on line `first_line` of a source already recorded.
    fn run_part(&mut self, chunk: Chunk, first_line: usize) -> Result<Dynamic, ScriptError> {
        // Chunks run on the caller's thread (the REPL's, the kernel's worker).
        crate::eo::gdal::hdf5::silence_on_this_thread();
        self.host.show_notices();
        self.guard.start_run();
        // Leading newlines make the engine's line numbers those of the file,
        // so errors inside the chunk (and inside its functions, later) point
        // at the right line without any remapping.
        let code = format!(
            "{}{}",
            "\n".repeat(first_line.saturating_sub(1)),
            chunk.code
        );
        let ast = self
            .engine
            .compile_with_scope(&self.scope, &code)
            .map_err(|e| self.error(e.into(), chunk.source))?;
        for function in ast.iter_functions() {
            self.sources.add_function(function.name, chunk.source);
        }
        let imports = top_level_imports(&ast);
        self.lock_resolved().clear();
        let mut program = self.functions.merge(&ast);
        program.set_source(chunk.source);
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &program)
            .and_then(|value| match self.guard.stop() {
                Some(stop) => Err(EvalAltResult::ErrorTerminated(stop, Position::NONE).into()),
                None => Ok(value),
            });
        program.clear_statements();
        self.functions = program;
        self.keep_imports(&imports);
        self.host.write_unsaved_figures();
        result.map_err(|e| self.error(*e, chunk.source))
    }

    /// Rhai forgets a chunk's imports when it ends; registering each module
    /// the chunk imported under its alias keeps `alias::f()` working in the
    /// chunks (cells, REPL entries) that follow.
    fn keep_imports(&mut self, imports: &[(String, String)]) {
        let resolved = self.lock_resolved().clone();
        for (path, alias) in imports {
            if let Some(module) = resolved.get(path) {
                self.engine
                    .register_static_module(alias.as_str(), Shared::clone(module));
                self.imports.insert(alias.clone(), Shared::clone(module));
            }
        }
    }

    fn lock_resolved(&self) -> std::sync::MutexGuard<'_, HashMap<String, Shared<Module>>> {
        self.resolved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls a script function on behalf of a widget event (a slider moved,
    /// a button clicked), as a run of its own under the session's quotas;
    /// `source` names the event in error reports.
    pub fn call_back(
        &mut self,
        source: &str,
        callback: &rhai::FnPtr,
        args: Vec<Dynamic>,
    ) -> Result<Dynamic, ScriptError> {
        crate::eo::gdal::hdf5::silence_on_this_thread();
        self.host.show_notices();
        self.guard.start_run();
        let result = callback
            .call::<Dynamic>(&self.engine, &self.functions, args)
            .and_then(|value| match self.guard.stop() {
                Some(stop) => Err(EvalAltResult::ErrorTerminated(stop, Position::NONE).into()),
                None => Ok(value),
            });
        self.host.write_unsaved_figures();
        result.map_err(|e| self.error(*e, source))
    }

    /// Runs the code cells of a script file's text (all, or those in `range`),
    /// each as its own run, stopping at the first error.
    pub fn run_cells(
        &mut self,
        source: &str,
        text: &str,
        range: Option<CellRange>,
    ) -> Result<usize, ScriptError> {
        self.sources.add_source(source, text);
        let cells = split_cells(text);
        if let Some(range) = range
            && !cells.iter().any(|c| range.contains(c.number))
        {
            return Err(ScriptError::plain(
                "NoSuchCells",
                ErrorClass::Usage,
                format!(
                    "{source} has {} cells; the range {range} selects none",
                    cells.len()
                ),
                Some("cells are numbered from 1, markdown cells included".into()),
            ));
        }
        let selected = cells
            .iter()
            .filter(|c| c.kind == CellKind::Code && range.is_none_or(|r| r.contains(c.number)));
        let mut ran = 0;
        for cell in selected {
            let _value = self.run_part(Chunk::new(source, &cell.text), cell.first_line)?;
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs one cell of a script whose whole text is `text` (the step runner
    /// runs cells one at a time); errors name the file and its line numbers.
    pub fn run_cell(
        &mut self,
        source: &str,
        text: &str,
        cell: &Cell,
    ) -> Result<Dynamic, ScriptError> {
        self.sources.add_source(source, text);
        self.run_part(Chunk::new(source, &cell.text), cell.first_line)
    }

    /// Installs Rhai's debugger: `callback` is called when a run starts and
    /// ends, and at every step it asks for (see Rhai's `register_debugger`).
    /// A registered debugger slows every run a little, so front-ends install
    /// it for the runs that need it (stepping through a cell, `:time`) and
    /// then call [`Session::clear_debugger`].
    #[allow(deprecated)] // register_debugger is stable in practice, marked volatile by Rhai.
    pub fn set_debugger(
        &mut self,
        callback: impl Fn(
            EvalContext,
            DebuggerEvent,
            ASTNode,
            Option<&str>,
            Position,
        ) -> Result<DebuggerCommand, Box<EvalAltResult>>
        + Send
        + Sync
        + 'static,
    ) {
        self.engine
            .register_debugger(|_, debugger| debugger, callback);
    }

    /// Removes the debugger installed by [`Session::set_debugger`]. Rhai
    /// cannot unregister one, so the engine is rebuilt; variables, functions
    /// and imported modules stay.
    pub fn clear_debugger(&mut self) {
        self.rebuild_engine();
    }

    /// A fresh engine with the session's settings, hooks and imported modules.
    fn rebuild_engine(&mut self) {
        let (engine, resolved) = build_engine(
            &self.settings,
            &self.host,
            &self.guard,
            &self.sources,
            &self.script_dir,
        );
        self.engine = engine;
        self.resolved = resolved;
        for (alias, module) in &self.imports {
            self.engine
                .register_static_module(alias.as_str(), Shared::clone(module));
        }
    }

    /// Makes `dir` the running script's folder, whose modules its
    /// `import`s find, when the grants let scripts read it: it lies in the
    /// workspace, under a tutorial or module folder, or the operator granted
    /// it. Any other folder (a home folder, `/tmp`) stays closed, and the
    /// answer says why, for the front-end to tell when an import fails.
    pub fn set_script_dir(&mut self, dir: &Path) -> Result<(), String> {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let granted = self.host.grants().readable(&dir).is_some();
        let (folder, answer) = if granted {
            (ScriptFolder::Granted(dir), Ok(()))
        } else {
            let why = format!(
                "the script's folder {} is not granted to scripts, so modules beside the script \
                 cannot be imported and its files cannot be read; put them in the workspace, or \
                 ask the operator to grant the folder (--read {})",
                dir.display(),
                dir.display()
            );
            (ScriptFolder::Refused(why.clone()), Err(why))
        };
        *self.script_dir.write().unwrap_or_else(|e| e.into_inner()) = folder;
        answer
    }

    /// The flag that interrupts the running chunk (Ctrl-C, a kernel interrupt).
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.host.cancel.interrupt_flag()
    }

    /// The variables in scope as `(name, type)`, with the type as scripts name it.
    /// A name declared again (`let x = 1; let x = "a";`) is listed once,
    /// with its current value's type: the scope keeps the shadowed entry.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut seen = std::collections::HashSet::new();
        let mut variables: Vec<(String, String)> = self
            .scope
            .iter_raw()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter(|(name, _, _)| seen.insert(name.to_string()))
            .map(|(name, _, value)| {
                let type_name = self.engine.map_type_name(value.type_name());
                (name.to_string(), crate::docs::script_types(type_name))
            })
            .collect();
        variables.reverse();
        variables
    }

    /// The value of a variable, if defined.
    pub fn variable(&self, name: &str) -> Option<Dynamic> {
        self.scope.get_value(name)
    }

    /// Forgets every variable, function and import (the quotas and
    /// workspace stay).
    pub fn reset(&mut self) {
        self.scope.clear();
        self.functions = AST::empty();
        self.sources.clear();
        self.imports.clear();
        self.rebuild_engine();
    }

    /// The variables and constants in scope.
    pub fn scope(&self) -> &Scope<'static> {
        &self.scope
    }

    /// The functions the scripts of this session defined (`fn` in a cell or
    /// an entry), with their `///` doc comments.
    pub fn script_functions(&self) -> &AST {
        &self.functions
    }

    /// Modules imported by earlier chunks, as `(alias, module)`.
    pub fn imported_modules(&self) -> impl Iterator<Item = (&str, &Shared<Module>)> {
        self.imports
            .iter()
            .map(|(alias, module)| (alias.as_str(), module))
    }

    /// The engine, for front-ends that complete names or show help.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The session's resources.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn error(&self, error: EvalAltResult, source: &str) -> ScriptError {
        let mut error = ScriptError::from_eval(error, source, &self.sources, &self.settings.limits);
        let mut roots = vec![
            (self.host.workspace().root().to_path_buf(), ""),
            (self.host.scratch().to_path_buf(), "<scratch>"),
        ];
        if let Some(archive) = &self.settings.archive {
            roots.push((archive.clone(), "<archive>"));
        }
        error.shorten_paths(&roots);
        self.explain_unknown_name(&mut error);
        error
    }

    /// A call or a property that matched nothing: the message in script
    /// types (`float`, not `f64`), and a hint with the forms that exist or
    /// the nearest name.
    fn explain_unknown_name(&self, error: &mut ScriptError) {
        if error.message.starts_with("Unknown property '") {
            // Rhai reports a missing getter as a plain runtime error.
            error.name = "PropertyNotFound".into();
        }
        match error.name.as_str() {
            "FunctionNotFound" => {
                let Some(call) = error.message.strip_prefix("Function not found: ") else {
                    return;
                };
                let name = call.split([' ', '(']).next().unwrap_or(call).to_string();
                let arguments = call[name.len()..].trim();
                error.message = format!(
                    "no function {name} takes {}",
                    crate::docs::script_types(arguments)
                );
                if let Some(hint) = self.call_hint(&name) {
                    error.hint = Some(hint);
                }
            }
            "PropertyNotFound" => {
                // "Unknown property 'area' - a getter is not registered for type 'Aoi'"
                let quoted: Vec<&str> = error.message.split('\'').skip(1).step_by(2).collect();
                if let [property, type_name] = quoted[..]
                    && let Some(hint) = self.property_hint(type_name, property)
                {
                    error.message = format!("{type_name} has no property {property}");
                    error.hint = Some(hint);
                }
            }
            _ => {}
        }
    }
}

fn build_engine(
    settings: &Settings,
    host: &Arc<Host>,
    guard: &Arc<Guard>,
    sources: &Arc<SourceMap>,
    script_dir: &Arc<RwLock<ScriptFolder>>,
) -> (Engine, ResolvedModules) {
    let mut engine = Engine::new();
    let limits = &settings.limits;
    engine
        .set_max_call_levels(limits.call_levels)
        .set_max_expr_depths(limits.expr_depth, limits.expr_depth_in_functions)
        // Zero = unlimited: value sizes are bounded by the memory quota (see ScriptLimits).
        .set_max_string_size(0)
        .set_max_array_size(0)
        .set_max_map_size(0)
        .set_max_modules(limits.modules)
        .set_max_variables(limits.variables)
        .set_max_functions(limits.functions)
        .set_strict_variables(true)
        // Operators on strings, arrays, BLOBs and maps go through the
        // registered functions that charge the memory quota first
        // (api/builtins); Rhai's fast path would bypass them.
        .set_fast_operators(false)
        .disable_symbol("eval");
    let resolver = ConfinedResolver::new(
        Arc::clone(script_dir),
        &settings.module_paths,
        Arc::clone(sources),
    );
    let resolved = resolver.resolved();
    engine.set_module_resolver(resolver);
    route_output(&mut engine, &host.display);
    guard.install(&mut engine);
    engine.set_default_tag(host.tag());
    crate::api::register(&mut engine);
    let prelude = prelude_module(&engine);
    engine.register_global_module(prelude.into());
    (engine, resolved)
}

/// The `import "path" as alias;` statements at the top level of a chunk.
fn top_level_imports(ast: &AST) -> Vec<(String, String)> {
    ast.statements()
        .iter()
        .filter_map(|statement| match statement {
            Stmt::Import(import, _) => match &import.0 {
                Expr::StringConstant(path, _) if !import.1.name.is_empty() => {
                    Some((path.to_string(), import.1.name.to_string()))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn route_output(engine: &mut Engine, display: &Arc<dyn DisplaySink>) {
    let out = Arc::clone(display);
    engine.on_print(move |text| out.stream(Stream::Stdout, &format!("{text}\n")));
    let err = Arc::clone(display);
    engine.on_debug(move |text, source, pos| {
        let place = match (source, pos.line()) {
            (Some(source), Some(line)) => format!("[{source}:{line}] "),
            (None, Some(line)) => format!("[line {line}] "),
            _ => String::new(),
        };
        err.stream(Stream::Stderr, &format!("{place}{text}\n"));
    });
}
