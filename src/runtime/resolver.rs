//! The module resolver: `import "name" as n;` loads `name.rhai` from the
//! running script's folder, the configured module folders, or cleope's own
//! `modules/` and `stdlib/` (embedded in the binary), and from nowhere else.

use super::errors::SourceMap;
use super::guard::error_value;
use include_dir::{Dir, include_dir};
use rhai::module_resolvers::ModuleResolver;
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

static MODULES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/modules");
static STDLIB: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/stdlib");

/// The name under which a module's source appears in error messages.
pub fn module_source_name(path: &str) -> String {
    format!("{path}.rhai")
}

/// The embedded standard prelude (stdlib/prelude.rhai), loaded into every session.
pub fn prelude_source() -> &'static str {
    STDLIB
        .get_file("prelude.rhai")
        .and_then(|f| f.contents_utf8())
        .expect("stdlib/prelude.rhai is embedded at build time")
}

/// The prelude compiled into a module with `engine`'s limits. The prelude is
/// part of cleope and tested, so a failure here is a build bug.
pub fn prelude_module(engine: &Engine) -> Module {
    let ast = engine
        .compile(prelude_source())
        .expect("stdlib/prelude.rhai compiles");
    Module::eval_ast_as_new(Scope::new(), &ast, engine).expect("stdlib/prelude.rhai evaluates")
}

/// The running script's folder, as its imports may use it.
#[derive(Debug, Clone, Default)]
pub enum ScriptFolder {
    /// No script is running from a folder (the REPL, a notebook elsewhere).
    #[default]
    None,
    /// Granted: modules beside the script can be imported.
    Granted(PathBuf),
    /// Not granted to scripts; why, for the error of an import that fails.
    Refused(String),
}

pub struct ConfinedResolver {
    script_dir: Arc<RwLock<ScriptFolder>>,
    module_dirs: Vec<PathBuf>,
    sources: Arc<SourceMap>,
    /// The modules being loaded, outermost first. Each nested import runs in
    /// a fresh engine state that Rhai's module count does not see, so the
    /// resolver itself must stop cycles (which would overflow the stack).
    loading: Mutex<Vec<String>>,
    /// Modules resolved during the current run, by name, so the session can
    /// keep a cell's top-level imports for the cells after it.
    resolved: Arc<Mutex<HashMap<String, Shared<Module>>>>,
}

/// How deep imports may nest (a module importing a module importing ...).
const MAX_IMPORT_DEPTH: usize = 16;

/// Removes a module from the loading chain when its load ends, however it ends.
struct Loading<'a> {
    chain: &'a Mutex<Vec<String>>,
}

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        self.chain.lock().unwrap_or_else(|e| e.into_inner()).pop();
    }
}

impl ConfinedResolver {
    pub fn new(
        script_dir: Arc<RwLock<ScriptFolder>>,
        module_dirs: &[PathBuf],
        sources: Arc<SourceMap>,
    ) -> Self {
        Self {
            script_dir,
            module_dirs: module_dirs
                .iter()
                .filter_map(|d| d.canonicalize().ok())
                .collect(),
            sources,
            loading: Mutex::new(Vec::new()),
            resolved: Arc::default(),
        }
    }

    /// The modules resolved during the current run, shared with the session.
    pub fn resolved(&self) -> Arc<Mutex<HashMap<String, Shared<Module>>>> {
        Arc::clone(&self.resolved)
    }

    /// Enters `path` into the loading chain, refusing cycles and deep nesting.
    fn enter(&self, path: &str, pos: Position) -> Result<Loading<'_>, Box<EvalAltResult>> {
        let mut chain = self.loading.lock().unwrap_or_else(|e| e.into_inner());
        let cycle = chain.iter().any(|p| p == path);
        if cycle || chain.len() >= MAX_IMPORT_DEPTH {
            let mut names = chain.clone();
            names.push(path.to_string());
            let (message, hint) = if cycle {
                (
                    format!("modules import each other in a loop: {}", names.join(" → ")),
                    "break the loop: move what both modules need into a third module",
                )
            } else {
                (
                    format!(
                        "imports nest more than {MAX_IMPORT_DEPTH} deep: {}",
                        names.join(" → ")
                    ),
                    "flatten the chain of modules that import each other",
                )
            };
            return Err(EvalAltResult::ErrorRuntime(
                error_value("ModuleCycle", &message, hint),
                pos,
            )
            .into());
        }
        chain.push(path.to_string());
        Ok(Loading {
            chain: &self.loading,
        })
    }

    fn script_folder(&self) -> ScriptFolder {
        self.script_dir
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn find_on_disk(&self, file: &str) -> Option<std::io::Result<String>> {
        let script_dir = match self.script_folder() {
            ScriptFolder::Granted(dir) => Some(dir),
            ScriptFolder::None | ScriptFolder::Refused(_) => None,
        };
        script_dir
            .iter()
            .chain(self.module_dirs.iter())
            .find_map(|dir| read_confined(dir, file))
    }

    /// The error of a module found nowhere; when the script's folder is not
    /// granted, it says so (the module may well be there).
    fn not_found(&self, path: &str, pos: Position) -> Box<EvalAltResult> {
        match self.script_folder() {
            ScriptFolder::Refused(why) => EvalAltResult::ErrorRuntime(
                error_value(
                    "ModuleNotFound",
                    &format!("module \"{path}\" was not found among the granted modules"),
                    &why,
                ),
                pos,
            )
            .into(),
            ScriptFolder::None | ScriptFolder::Granted(_) => {
                EvalAltResult::ErrorModuleNotFound(path.into(), pos).into()
            }
        }
    }

    fn find_embedded(file: &str) -> Option<&'static str> {
        [&MODULES, &STDLIB]
            .into_iter()
            .find_map(|dir| dir.get_file(file)?.contents_utf8())
    }
}

/// Reads `dir/file` if it exists and really lies inside `dir` (links followed).
fn read_confined(dir: &Path, file: &str) -> Option<std::io::Result<String>> {
    let real = dir.join(file).canonicalize().ok()?;
    if !real.starts_with(dir) || !real.is_file() {
        return None;
    }
    Some(std::fs::read_to_string(real))
}

fn refuse(path: &str, pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(
        error_value(
            "ModuleNotAllowed",
            &format!("import \"{path}\" is refused: a module is named, not given as a file path"),
            "write the module's name without '..', a leading '/' or '.rhai', e.g. import \"s2\" as s2;",
        ),
        pos,
    )
    .into()
}

fn is_module_name(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.ends_with(".rhai")
        && path.split('/').all(|part| {
            !part.is_empty()
                && part != ".."
                && part != "."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

impl ModuleResolver for ConfinedResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if !is_module_name(path) {
            return Err(refuse(path, pos));
        }
        let _loading = self.enter(path, pos)?;
        let file = module_source_name(path);
        let text = match self.find_on_disk(&file) {
            Some(Ok(text)) => text,
            Some(Err(e)) => {
                let error =
                    EvalAltResult::ErrorSystem(format!("cannot read module {file}"), e.into());
                return Err(EvalAltResult::ErrorInModule(path.into(), error.into(), pos).into());
            }
            None => match Self::find_embedded(&file) {
                Some(text) => text.to_string(),
                None => return Err(self.not_found(path, pos)),
            },
        };
        self.sources.add_source(&file, &text);
        let in_module = |e: Box<EvalAltResult>| -> Box<EvalAltResult> {
            EvalAltResult::ErrorInModule(path.into(), e, pos).into()
        };
        let mut ast = engine.compile(&text).map_err(|e| in_module(e.into()))?;
        ast.set_source(file.as_str());
        let module: Shared<Module> = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(in_module)?
            .into();
        self.resolved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_string(), Shared::clone(&module));
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_exclude_paths() {
        assert!(is_module_name("s2"));
        assert!(is_module_name("lib/table_tools"));
        for bad in [
            "",
            "../x",
            "/etc/passwd",
            "a/../b",
            "x.rhai",
            "a//b",
            "./x",
            "a b",
        ] {
            assert!(!is_module_name(bad), "{bad:?} should be refused");
        }
    }
}
