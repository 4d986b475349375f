//! What the process itself holds that a script must never reach: secrets
//! in its environment.
//!
//! Unsetting a variable is not enough. The kernel serves
//! `/proc/self/environ` from the memory the environment was first copied
//! into when the process started, and `unsetenv` only removes the pointer
//! to it: the bytes stay readable there. So the value is overwritten in
//! place first, then the variable removed.

use std::ffi::{CStr, c_char};

unsafe extern "C" {
    static mut environ: *mut *mut c_char;
}

/// Overwrites the values of the variables `names` with NUL bytes and removes
/// them from the environment.
///
/// # Safety
///
/// No other thread may read or write the environment meanwhile: call it in
/// `main` before any thread is started.
pub unsafe fn forget_secrets(names: &[&str]) {
    for name in names {
        // SAFETY: the caller guarantees a single thread.
        unsafe { erase_value(name) };
        // SAFETY: as above.
        unsafe { std::env::remove_var(name) };
    }
}

/// Zeroes the bytes after `NAME=` in every environment entry for `name`.
///
/// # Safety
///
/// As [`forget_secrets`].
unsafe fn erase_value(name: &str) {
    let prefix = format!("{name}=");
    // SAFETY: `environ` is a NULL-terminated array of NUL-terminated strings
    // owned by the C library; nobody else touches it (single thread).
    unsafe {
        let mut entry = environ;
        if entry.is_null() {
            return;
        }
        while !(*entry).is_null() {
            let text = CStr::from_ptr(*entry);
            let bytes = text.to_bytes();
            if bytes.starts_with(prefix.as_bytes()) {
                let value = (*entry).add(prefix.len());
                for i in 0..bytes.len() - prefix.len() {
                    std::ptr::write_volatile(value.add(i), 0);
                }
            }
            entry = entry.add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    /// Run in a child process: the test harness has threads, and this test
    /// rewrites the environment (see `tests/it/hostile_grants.rs` for the
    /// end-to-end check through `/proc/self/environ`).
    #[test]
    fn a_forgotten_secret_is_gone_from_the_environment_block() {
        if std::env::var_os("CLEOPE_PROCESS_TEST_CHILD").is_none() {
            let exe = std::env::current_exe().unwrap();
            let output = std::process::Command::new(exe)
                .args([
                    "--exact",
                    "sandbox::process::tests::a_forgotten_secret_is_gone_from_the_environment_block",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env("CLEOPE_PROCESS_TEST_CHILD", "1")
                .env("CLEOPE_PASSWORD", "hunter2-secret")
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        let before = std::fs::read("/proc/self/environ").unwrap();
        assert!(
            contains(&before, b"hunter2-secret"),
            "the child has the secret"
        );
        // SAFETY: the child's test runs alone (--test-threads=1) and
        // nothing else reads the environment meanwhile.
        unsafe { super::forget_secrets(&["CLEOPE_PASSWORD"]) };
        assert!(std::env::var_os("CLEOPE_PASSWORD").is_none());
        let after = std::fs::read("/proc/self/environ").unwrap();
        assert!(!contains(&after, b"hunter2-secret"), "erased in place");
        assert!(
            contains(&after, b"CLEOPE_PROCESS_TEST_CHILD=1"),
            "others kept"
        );
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }
}
