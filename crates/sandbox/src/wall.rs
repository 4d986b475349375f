//! The operating-system wall: the kernel confines the process that runs
//! scripts to its grants, so a door nobody listed (a C library following a
//! reference inside a file, say) is still closed.
//!
//! * Landlock (Linux ≥ 5.13): file access only beneath the granted roots
//!   plus the read-only system paths the libraries need (GDAL, PROJ, HDF5,
//!   TLS, DNS); on ABI ≥ 4, TCP `connect` only to the granted ports and
//!   `bind` only to the listening ones; on ABI ≥ 6, no signals to and no
//!   abstract sockets of processes outside the sandbox. Best effort across
//!   ABI versions: what the kernel lacks is reported, never fatal.
//! * seccomp: no new processes (`execve`, `fork`, `clone` without
//!   `CLONE_THREAD`), no debugging of others, and none of the system calls
//!   a session never needs (mounts, modules, namespaces, keys, BPF).
//!
//! Before Landlock ABI 8 a ruleset binds only the calling thread and the
//! threads it creates later, so [`raise`] must run while the process has a
//! single thread: in `main`, before the tokio runtime, the rayon pool and
//! GDAL exist. Descriptors opened before it keep working (the terminal, a
//! kernel's history database), which is why some files are opened first.

use super::grants::Grants;
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, NetPort,
    PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The newest Landlock ABI whose rights cleope asks for (and was tested with).
const TESTED_ABI: ABI = ABI::V7;

/// Folders the libraries read at run time, whatever the script does:
/// shared libraries and their data (GDAL, PROJ, netCDF, HDF5), the dynamic
/// loader's cache, TLS certificates, DNS and time-zone configuration, and
/// what the kernel tells about memory and CPUs.
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/gdal",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/proc/self/status",
    "/proc/self/stat",
    "/proc/self/statm",
    "/proc/self/cgroup",
    "/proc/self/mountinfo",
    "/proc/meminfo",
    "/proc/cpuinfo",
    "/proc/stat",
    "/sys/devices/system/cpu",
    "/sys/devices/system/node",
    "/sys/fs/cgroup",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

fn system_read_paths() -> impl Iterator<Item = PathBuf> {
    SYSTEM_READ.iter().map(PathBuf::from)
}

/// Device files every process may write to.
const SYSTEM_WRITE_FILES: &[&str] = &["/dev/null"];

/// The plan of the wall: what the process may reach.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Folders (or files) to read beneath.
    pub read: Vec<PathBuf>,
    /// Folders to read and write beneath.
    pub write: Vec<PathBuf>,
    /// Single files to read and write.
    pub write_files: Vec<PathBuf>,
    /// TCP ports `connect` may reach.
    pub connect_ports: Vec<u16>,
    /// TCP ports `bind` may take.
    pub bind_ports: Vec<u16>,
}

impl Plan {
    /// The system paths only: for a process that runs no session (a
    /// kernel whose settings are broken still answers, and runs nothing).
    pub fn bare() -> Plan {
        Plan {
            read: system_read_paths().collect(),
            write_files: SYSTEM_WRITE_FILES.iter().map(PathBuf::from).collect(),
            ..Plan::default()
        }
    }

    /// The wall for `grants`: every granted root, cleope's own working
    /// folders, and the granted TCP ports.
    pub fn of(grants: &Grants) -> Plan {
        let mut read: Vec<PathBuf> = grants.read.iter().map(|r| r.path.clone()).collect();
        read.extend(system_read_paths());
        let mut write = vec![grants.workspace.clone(), grants.scratch.clone()];
        write.extend(grants.own_writes.iter().cloned());
        let mut write_files: Vec<PathBuf> = grants.own_files.clone();
        write_files.extend(SYSTEM_WRITE_FILES.iter().map(PathBuf::from));
        Plan {
            read,
            write,
            write_files,
            connect_ports: grants.net.ports(),
            bind_ports: grants.listen_ports.clone(),
        }
    }
}

/// What the wall achieved, for the banner, `quota()` and `--show-grants`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Landlock: `None` when the kernel has none (or it is disabled).
    pub landlock: Option<LandlockLevel>,
    /// Why Landlock is not in force, when it is not.
    pub landlock_problem: Option<String>,
    /// Whether the seccomp filter is installed, or why not.
    pub seccomp: Result<(), String>,
}

/// How far Landlock confines the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LandlockLevel {
    /// The kernel's Landlock ABI version.
    pub abi: i32,
    /// Every right asked for is enforced (else some are missing on this kernel).
    pub full: bool,
    /// TCP connections and binds are confined too (ABI ≥ 4).
    pub network: bool,
}

impl Status {
    /// True when files are confined by the kernel.
    pub fn files_confined(&self) -> bool {
        self.landlock.is_some()
    }

    /// One line for banners: what confines the process, and what is missing.
    pub fn summary(&self) -> String {
        let landlock = match (&self.landlock, &self.landlock_problem) {
            (Some(level), _) => format!(
                "Landlock ABI {} (files{})",
                level.abi,
                if level.network {
                    " and TCP"
                } else {
                    ", not TCP: kernel too old"
                }
            ),
            (None, Some(problem)) => format!("no Landlock ({problem})"),
            (None, None) => "no Landlock".into(),
        };
        let seccomp = match &self.seccomp {
            Ok(()) => "seccomp (no new processes)".to_string(),
            Err(problem) => format!("no seccomp ({problem})"),
        };
        format!("{landlock}, {seccomp}")
    }

    /// A warning for the banner when the kernel could not confine files.
    pub fn warning(&self) -> Option<String> {
        if self.files_confined() {
            return None;
        }
        Some(format!(
            "warning: this kernel cannot confine cleope's files ({}); scripts are held only by \
             cleope's own path checks",
            self.landlock_problem
                .as_deref()
                .unwrap_or("Landlock is missing")
        ))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

static RAISED: OnceLock<Status> = OnceLock::new();

/// The wall raised in this process, if any (library users and tests that
/// build sessions directly run without one).
pub fn status() -> Option<&'static Status> {
    RAISED.get()
}

/// Confines this process to `plan`, for good. Call once, while the process
/// has a single thread. Never fails: what cannot be enforced is reported.
pub fn raise(plan: &Plan) -> &'static Status {
    if let Some(status) = RAISED.get() {
        return status;
    }
    let (landlock, landlock_problem) = match restrict_files_and_ports(plan) {
        Ok(level) => (level, None),
        Err(problem) => (None, Some(problem)),
    };
    let landlock_problem = landlock_problem.or_else(|| {
        landlock
            .is_none()
            .then(|| "the kernel has no Landlock, or it is disabled".to_string())
    });
    let status = Status {
        landlock,
        landlock_problem,
        seccomp: forbid_processes(),
    };
    RAISED.get_or_init(|| status)
}

/// Applies the Landlock ruleset; `Ok(None)` when the kernel has no Landlock.
fn restrict_files_and_ports(plan: &Plan) -> Result<Option<LandlockLevel>, String> {
    let abi = TESTED_ABI;
    let failed = |e: landlock::RulesetError| e.to_string();
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .map_err(failed)?
        .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
        .map_err(failed)?
        .scope(Scope::from_all(abi))
        .map_err(failed)?
        .create()
        .map_err(failed)?;
    for path in &plan.read {
        ruleset = ruleset.add_rules(beneath(path, read)).map_err(failed)?;
    }
    for path in &plan.write {
        ruleset = ruleset.add_rules(beneath(path, all)).map_err(failed)?;
    }
    let file_rights = AccessFs::from_file(abi);
    for path in &plan.write_files {
        ruleset = ruleset
            .add_rules(beneath(path, file_rights))
            .map_err(failed)?;
    }
    for &port in &plan.connect_ports {
        ruleset = ruleset
            .add_rule(NetPort::new(port, AccessNet::ConnectTcp))
            .map_err(failed)?;
    }
    for &port in &plan.bind_ports {
        ruleset = ruleset
            .add_rule(NetPort::new(port, AccessNet::BindTcp))
            .map_err(failed)?;
    }
    let status = ruleset.restrict_self().map_err(failed)?;
    let kernel_abi = match status.landlock {
        LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        } => kernel_abi.unwrap_or(effective_abi as i32),
        LandlockStatus::NotEnabled | LandlockStatus::NotImplemented => return Ok(None),
    };
    Ok(match status.ruleset {
        RulesetStatus::NotEnforced => None,
        enforced => Some(LandlockLevel {
            abi: kernel_abi,
            full: enforced == RulesetStatus::FullyEnforced,
            network: kernel_abi >= 4,
        }),
    })
}

/// A rule for `path` if it exists (a missing system folder is no error:
/// distributions differ), with the file-only rights when it is a file.
fn beneath(
    path: &Path,
    access: landlock::BitFlags<AccessFs>,
) -> impl Iterator<Item = Result<PathBeneath<PathFd>, landlock::RulesetError>> {
    landlock::path_beneath_rules([path], access)
}

/// The system calls a session never makes; each returns EPERM.
fn forbidden_syscalls() -> Vec<i64> {
    vec![
        libc::SYS_execve,
        libc::SYS_execveat,
        libc::SYS_fork,
        libc::SYS_vfork,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_reboot,
        libc::SYS_setns,
        libc::SYS_unshare,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_acct,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
        libc::SYS_adjtimex,
        libc::SYS_syslog,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_iopl,
        libc::SYS_ioperm,
        libc::SYS_quotactl,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_mount_setattr,
        libc::SYS_pidfd_getfd,
        libc::SYS_fanotify_init,
    ]
}

/// Installs the seccomp filters on every thread of the process.
fn forbid_processes() -> Result<(), String> {
    let arch = std::env::consts::ARCH.try_into().map_err(|_| {
        format!(
            "seccomp filters are not built for {}",
            std::env::consts::ARCH
        )
    })?;
    let refused = libc::EPERM as u32;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = forbidden_syscalls()
        .into_iter()
        .map(|syscall| (syscall, Vec::new()))
        .collect();
    // clone() makes threads (CLONE_THREAD) and processes (without it):
    // only the second is refused. posix_spawn and fork use it too.
    let makes_process = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
        0,
    )
    .map_err(|e| e.to_string())?;
    rules.insert(
        libc::SYS_clone,
        vec![SeccompRule::new(vec![makes_process]).map_err(|e| e.to_string())?],
    );
    let deny: BpfProgram = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(refused),
        arch,
    )
    .and_then(TryInto::try_into)
    .map_err(|e| e.to_string())?;
    // clone3 passes its flags in memory, out of a filter's sight: answering
    // ENOSYS makes glibc fall back to clone(), which the rule above judges.
    let clone3: BpfProgram = SeccompFilter::new(
        [(libc::SYS_clone3, Vec::new())].into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .and_then(TryInto::try_into)
    .map_err(|e| e.to_string())?;
    seccompiler::apply_filter_all_threads(&deny).map_err(|e| e.to_string())?;
    seccompiler::apply_filter_all_threads(&clone3).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::{Endpoint, NetGrants, ReadRoot, Role};

    #[test]
    fn the_plan_holds_the_grants_and_the_system_paths() {
        let mut net = NetGrants::default();
        net.grant(Endpoint::of_url("https://example.org/x", Role::Catalogue).unwrap());
        let grants = Grants {
            workspace: "/ws".into(),
            read: vec![ReadRoot {
                label: "product archive".into(),
                path: "/eodata".into(),
            }],
            net,
            scratch: "/tmp/cleope-1".into(),
            own_writes: Vec::new(),
            own_files: Vec::new(),
            listen_ports: vec![5555],
        };
        let plan = Plan::of(&grants);
        assert!(plan.read.contains(&"/eodata".into()) && plan.read.contains(&"/usr".into()));
        assert_eq!(
            plan.write,
            vec![PathBuf::from("/ws"), "/tmp/cleope-1".into()]
        );
        assert!(
            !plan
                .read
                .iter()
                .any(|p| p.starts_with("/home") || p == Path::new("/tmp"))
        );
        assert!(!plan.read.contains(&"/proc/self/environ".into()));
        assert_eq!(plan.connect_ports, vec![443]);
        assert_eq!(plan.bind_ports, vec![5555]);
    }

    #[test]
    fn the_summary_names_what_confines_and_what_is_missing() {
        let status = Status {
            landlock: None,
            landlock_problem: Some("Linux 5.4".into()),
            seccomp: Ok(()),
        };
        assert!(status.summary().contains("no Landlock (Linux 5.4)"));
        assert!(status.warning().unwrap().contains("cannot confine"));
        let status = Status {
            landlock: Some(LandlockLevel {
                abi: 7,
                full: true,
                network: true,
            }),
            landlock_problem: None,
            seccomp: Ok(()),
        };
        assert_eq!(
            status.summary(),
            "Landlock ABI 7 (files and TCP), seccomp (no new processes)"
        );
        assert!(status.warning().is_none());
    }
}
