//! The session's quotas and their use.

use rhai::plugin::*;

pub fn module() -> Module {
    exported_module!(quota_api)
}

#[export_module]
mod quota_api {
    use crate::runtime::Host;
    use crate::sandbox::{human_bytes, human_disk_bytes, process_rss_bytes};
    use rhai::Map;

    /// The quotas and what is used of them, as a map of numbers:
    /// `memory_limit`, `memory_used` (bytes the session holds), `memory_native`
    /// (bytes held by native values such as matrices), `memory_resident`
    /// (the process's resident set, libraries included), `disk_limit`,
    /// `disk_used` (bytes in the workspace, every file and folder at least a
    /// block, shared with every session on the workspace), `disk_entries_limit`,
    /// `disk_entries_used` (files and folders), `cpus`, `operations_limit`,
    /// `time_limit` and `elapsed` (seconds of the current run); and the
    /// session's grants: `workspace` (the folder scripts may write), `read`
    /// (the folders they may read), `network` (the `host:port` endpoints
    /// they may reach) and `wall` (what the operating system enforces).
    ///
    /// ```rhai
    /// let q = quota();
    /// print("disk used: " + q.disk_used + " of " + q.disk_limit + " bytes");
    /// print("readable: " + q.read);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn quota(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let q = &host.quota;
        let usage = host.quota_use();
        let int = |n: u64| Dynamic::from(n.min(rhai::INT::MAX as u64) as rhai::INT);
        let mut map = Map::new();
        map.insert("memory_limit".into(), int(usage.memory_limit));
        map.insert("memory_used".into(), int(usage.memory_used));
        map.insert("memory_native".into(), int(host.memory.charged()));
        map.insert(
            "memory_resident".into(),
            int(process_rss_bytes().unwrap_or(0)),
        );
        map.insert("disk_limit".into(), int(usage.disk_limit));
        map.insert("disk_used".into(), int(usage.disk_used));
        map.insert("disk_entries_limit".into(), int(host.disk.entry_limit()));
        map.insert("disk_entries_used".into(), int(host.disk.entries_used()));
        map.insert("cpus".into(), int(q.cpus as u64));
        map.insert("operations_limit".into(), int(q.operations));
        map.insert(
            "time_limit".into(),
            Dynamic::from(usage.time_limit.as_secs_f64()),
        );
        map.insert(
            "elapsed".into(),
            Dynamic::from(usage.run_elapsed.as_secs_f64()),
        );
        let grants = host.grants();
        let path = |p: &std::path::Path| Dynamic::from(p.display().to_string());
        map.insert("workspace".into(), path(&grants.workspace));
        let read: rhai::Array = grants.read.iter().map(|r| path(&r.path)).collect();
        map.insert("read".into(), read.into());
        let network: rhai::Array = grants
            .net
            .endpoints()
            .iter()
            .map(|e| Dynamic::from(e.address()))
            .collect();
        map.insert("network".into(), network.into());
        map.insert("wall".into(), crate::runtime::host::wall_summary().into());
        Ok(map)
    }

    /// A meter of the memory and disk quotas: two progress bars in a
    /// notebook (amber past 80 %, red past 95 %), updated after every cell,
    /// so that a limit is seen coming; as text elsewhere.
    ///
    /// ```rhai
    /// let meter = quota_meter();
    /// display(meter);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn quota_meter(
        ctx: NativeCallContext,
    ) -> Result<crate::runtime::widgets::Widget, Box<EvalAltResult>> {
        Ok(Host::of(&ctx)?.quota_meter())
    }

    /// A readable report of the quotas and their use, one line per quota,
    /// then the grants: what scripts may read, write and reach, and what
    /// the operating system enforces.
    ///
    /// ```rhai
    /// print(quota_report());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn quota_report(ctx: NativeCallContext) -> Result<String, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let q = &host.quota;
        let percent = |used: u64, limit: u64| 100.0 * used as f64 / limit.max(1) as f64;
        let used = host.memory.in_use();
        let elapsed = host.cancel.elapsed();
        Ok([
            format!(
                "memory      {:>10} of {:>10} ({:.0}%), native values {}",
                human_bytes(used),
                human_bytes(q.memory),
                percent(used, q.memory),
                human_bytes(host.memory.charged())
            ),
            format!(
                "disk        {:>10} of {:>10} ({:.1}%), {} of {} files and folders",
                human_disk_bytes(host.disk.used()),
                human_disk_bytes(q.disk),
                percent(host.disk.used(), q.disk),
                host.disk.entries_used(),
                host.disk.entry_limit()
            ),
            format!("cpus        {:>10}", q.cpus),
            format!(
                "time        {:>9.1}s of {:>9}s per run",
                elapsed.as_secs_f64(),
                q.time_limit.as_secs()
            ),
            format!("operations  {:>10} per run", q.operations),
            host.grants_report(),
        ]
        .join("\n"))
    }
}
