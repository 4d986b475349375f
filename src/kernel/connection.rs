//! The connection file Jupyter writes for each kernel, checked before
//! anything listens, and the five sockets bound exactly where it says.

use jupyter_protocol::ConnectionInfo;
use jupyter_zmq_client::{
    KernelControlConnection, KernelHeartbeatConnection, KernelIoPubXPubConnection,
    KernelShellConnection, KernelStdinConnection, create_kernel_control_connection,
    create_kernel_heartbeat_connection, create_kernel_iopub_xpub_connection,
    create_kernel_shell_connection, create_kernel_stdin_connection,
};
use std::path::{Path, PathBuf};

/// The only signature scheme the kernel accepts (Jupyter's default).
pub const SIGNATURE_SCHEME: &str = "hmac-sha256";

/// Why the kernel cannot start on a connection file.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("cannot read the connection file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not a Jupyter connection file: {error}")]
    Parse {
        path: PathBuf,
        error: serde_json::Error,
    },
    #[error(
        "the connection file asks for message signatures with \"{0}\"; cleope checks \
         every message with {SIGNATURE_SCHEME} and accepts no other scheme. Start the kernel \
         from a Jupyter client configured for {SIGNATURE_SCHEME} (jupyter_client's default)"
    )]
    SignatureScheme(String),
    #[error("cannot listen on {endpoint}: {error}")]
    Bind { endpoint: String, error: String },
}

/// Reads and checks a connection file: well-formed, and signed with HMAC-SHA256.
pub fn load(path: &Path) -> Result<ConnectionInfo, ConnectionError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConnectionError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let info: ConnectionInfo =
        serde_json::from_str(&text).map_err(|error| ConnectionError::Parse {
            path: path.to_path_buf(),
            error,
        })?;
    check_scheme(&info)?;
    Ok(info)
}

fn check_scheme(info: &ConnectionInfo) -> Result<(), ConnectionError> {
    if info.signature_scheme.eq_ignore_ascii_case(SIGNATURE_SCHEME) {
        Ok(())
    } else {
        Err(ConnectionError::SignatureScheme(
            info.signature_scheme.clone(),
        ))
    }
}

/// The kernel's sockets, bound to the connection file's address only.
pub struct Sockets {
    pub shell: KernelShellConnection,
    pub control: KernelControlConnection,
    pub stdin: KernelStdinConnection,
    /// An XPUB socket: it hears each client subscribe and welcomes it (JEP 65).
    pub iopub: KernelIoPubXPubConnection,
    pub heartbeat: KernelHeartbeatConnection,
}

/// Binds the five sockets (tcp `ip:port`, or ipc `path-port`) and signs
/// with the file's key under `session_id`.
pub async fn bind(info: &ConnectionInfo, session_id: &str) -> Result<Sockets, ConnectionError> {
    let failed = |endpoint: String| {
        move |error: jupyter_zmq_client::RuntimeError| ConnectionError::Bind {
            endpoint,
            error: error.to_string(),
        }
    };
    Ok(Sockets {
        shell: create_kernel_shell_connection(info, session_id)
            .await
            .map_err(failed(info.shell_url()))?,
        control: create_kernel_control_connection(info, session_id)
            .await
            .map_err(failed(info.control_url()))?,
        stdin: create_kernel_stdin_connection(info, session_id)
            .await
            .map_err(failed(info.stdin_url()))?,
        iopub: create_kernel_iopub_xpub_connection(info, session_id)
            .await
            .map_err(failed(info.iopub_url()))?,
        heartbeat: create_kernel_heartbeat_connection(info)
            .await
            .map_err(failed(info.hb_url()))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jupyter_protocol::Transport;

    fn write(dir: &Path, scheme: &str, transport: &str) -> PathBuf {
        let path = dir.join("kernel.json");
        let json = serde_json::json!({
            "ip": "127.0.0.1", "transport": transport, "shell_port": 1, "iopub_port": 2,
            "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": "k",
            "signature_scheme": scheme, "kernel_name": "rhai"
        });
        std::fs::write(&path, json.to_string()).unwrap();
        path
    }

    #[test]
    fn hmac_sha256_files_load_for_both_transports() {
        let dir = tempfile::tempdir().unwrap();
        let tcp = load(&write(dir.path(), "hmac-sha256", "tcp")).unwrap();
        assert_eq!(tcp.shell_url(), "tcp://127.0.0.1:1");
        let ipc = load(&write(dir.path(), "hmac-sha256", "ipc")).unwrap();
        assert_eq!(ipc.transport, Transport::IPC);
    }

    #[test]
    fn other_signature_schemes_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let error = load(&write(dir.path(), "hmac-md5", "tcp")).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("\"hmac-md5\"") && message.contains("hmac-sha256"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let error = load(Path::new("/nonexistent/kernel-1.json")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/kernel-1.json"));
    }
}
