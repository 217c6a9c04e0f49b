//! Sockets: TCP or Unix-domain listeners and streams behind one type, and
//! the small big-endian read helpers both protocols use.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::frames::MAX_BUFFER;

/// A listening socket.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix domain; the path is removed again by [`Listener::cleanup`].
    Unix {
        listener: UnixListener,
        path: PathBuf,
    },
}

impl Listener {
    /// Listen on a TCP address.
    pub fn bind_tcp(addr: SocketAddr) -> io::Result<Self> {
        Ok(Listener::Tcp(TcpListener::bind(addr)?))
    }

    /// Listen on a Unix socket path. A stale socket file nobody listens on
    /// is replaced; a live one is "address in use"; anything else at that
    /// path is left alone and reported.
    pub fn bind_unix(path: &Path) -> io::Result<Self> {
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !meta.file_type().is_socket() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "path exists and is not a socket",
                ));
            }
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    "another process is listening on this socket",
                ));
            }
            std::fs::remove_file(path)?;
        }
        Ok(Listener::Unix {
            listener: UnixListener::bind(path)?,
            path: path.to_path_buf(),
        })
    }

    /// Wait for the next client.
    pub fn accept(&self) -> io::Result<Conn> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept()?;
                // Replies are written in one piece; don't let Nagle hold
                // them back waiting for a delayed ACK.
                s.set_nodelay(true)?;
                Ok(Conn::Tcp(s))
            }
            Listener::Unix { listener, .. } => Ok(Conn::Unix(listener.accept()?.0)),
        }
    }

    /// The TCP address actually bound (tests bind port 0).
    #[cfg(test)]
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok(),
            Listener::Unix { .. } => None,
        }
    }

    /// Unblock a thread waiting in [`Listener::accept`] by connecting to
    /// ourselves. Errors are ignored: the process is exiting anyway.
    pub fn wake(&self) {
        match self {
            Listener::Tcp(l) => {
                if let Ok(mut addr) = l.local_addr() {
                    if addr.ip().is_unspecified() {
                        addr.set_ip(match addr.ip() {
                            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
                        });
                    }
                    let _ = TcpStream::connect_timeout(&addr, Duration::from_millis(200));
                }
            }
            Listener::Unix { path, .. } => {
                let _ = UnixStream::connect(path);
            }
        }
    }

    /// Remove the socket file of a Unix listener.
    pub fn cleanup(&self) {
        if let Listener::Unix { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(a) => write!(f, "{a}"),
                Err(_) => f.write_str("tcp:?"),
            },
            Listener::Unix { path, .. } => write!(f, "unix:{}", path.display()),
        }
    }
}

/// One client connection.
#[derive(Debug)]
pub enum Conn {
    /// TCP.
    Tcp(TcpStream),
    /// Unix domain.
    Unix(UnixStream),
}

impl Conn {
    /// Ask the kernel to acknowledge received data at once (Linux
    /// `TCP_QUICKACK`, which resets itself after each ACK). tcti-mssim
    /// writes a command as two segments (the 9-byte header, then the
    /// body) without TCP_NODELAY; waiting on our delayed ACK of the header
    /// would stall every command by ~40 ms.
    pub fn quick_ack(&self) {
        if let Conn::Tcp(s) = self {
            let _ = rustix::net::sockopt::set_tcp_quickack(s, true);
        }
    }

    /// Set (or clear, with `None`) the read timeout.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_read_timeout(t),
            Conn::Unix(s) => s.set_read_timeout(t),
        }
    }

    /// A second handle to the same socket (used to shut it down from
    /// another thread when the simulator exits).
    pub fn try_clone(&self) -> io::Result<Conn> {
        match self {
            Conn::Tcp(s) => s.try_clone().map(Conn::Tcp),
            Conn::Unix(s) => s.try_clone().map(Conn::Unix),
        }
    }

    /// Shut both directions down; a thread blocked reading wakes with EOF.
    pub fn shutdown(&self) {
        let _ = match self {
            Conn::Tcp(s) => s.shutdown(Shutdown::Both),
            Conn::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.flush(),
            Conn::Unix(s) => s.flush(),
        }
    }
}

/// Octets read from a connection ahead of the parser: one `recv` usually
/// brings a whole command (its framing fields, header and body), where
/// reading each field with its own `read_exact` costs a system call per
/// field. Octets past the current command stay for the next one.
pub struct ReadAhead {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl Default for ReadAhead {
    fn default() -> Self {
        Self::new()
    }
}

impl ReadAhead {
    /// Room for the commands clients send (larger bodies are read
    /// straight into their own buffer).
    pub const CAPACITY: usize = 4096;

    /// An empty buffer.
    pub fn new() -> Self {
        ReadAhead {
            buf: vec![0u8; Self::CAPACITY].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// A reader of `conn` through this buffer.
    pub fn on<'a, R: Read>(&'a mut self, conn: &'a mut R) -> Buffered<'a, R> {
        Buffered { ahead: self, conn }
    }
}

/// [`ReadAhead`] in front of a connection (see [`ReadAhead::on`]).
pub struct Buffered<'a, R> {
    ahead: &'a mut ReadAhead,
    conn: &'a mut R,
}

impl<R> Buffered<'_, R> {
    /// The connection behind the buffer.
    pub fn get_ref(&self) -> &R {
        self.conn
    }
}

impl<R: Read> Read for Buffered<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let a = &mut *self.ahead;
        if a.start >= a.end {
            a.start = 0;
            a.end = 0;
            if out.len() >= a.buf.len() {
                return self.conn.read(out);
            }
            a.end = self.conn.read(&mut a.buf)?;
        }
        let have = a.buf.get(a.start..a.end).unwrap_or_default();
        let n = have.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), have.get(..n)) {
            dst.copy_from_slice(src);
        }
        a.start += n;
        Ok(n)
    }
}

/// `u32 len | bytes | u32 0`: the mssim response framing.
pub fn mssim_frame(rsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rsp.len().saturating_add(8));
    // Responses come from the engine and are far below 4 GiB.
    out.extend_from_slice(&u32::try_from(rsp.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(rsp);
    out.extend_from_slice(&0u32.to_be_bytes());
    out
}

/// Concatenate big-endian u32s (the shape of most replies).
pub fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_be_bytes()).collect()
}
