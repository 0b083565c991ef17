//! A small SMTP server for tests: it speaks enough of RFC 5321 (EHLO, MAIL, RCPT, DATA,
//! RSET, NOOP, QUIT; no TLS, so the app runs with `smtp.insecure_plaintext` on loopback)
//! for lettre to hand it real messages, keeps them, and can be stopped and started again
//! on the same port, like a mail server going down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wristband::config::{MailDelivery, SmtpSettings, SmtpTls};

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The message with quoted-printable soft line breaks joined and `=3D` decoded.
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The first link in the message that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        let text = self.text();
        let start = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} link in: {text}"));
        text[start..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().to_owned()
    }

    pub fn subject(&self) -> String {
        self.data.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_default().to_owned()
    }
}

pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    server: Option<JoinHandle<()>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let server = Some(tokio::spawn(serve(listener, messages.clone())));
        Self { port, messages, server }
    }

    /// Where the app sends: this server, in plaintext on loopback.
    pub fn delivery(&self) -> MailDelivery {
        MailDelivery::Smtp(SmtpSettings {
            host: "127.0.0.1".to_owned(),
            port: self.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
        })
    }

    /// The server goes down: connections are refused.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }

    /// The server comes back on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.server = Some(tokio::spawn(serve(listener, self.messages.clone())));
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits (10 s at most) until `count` messages arrived; all of them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{count} messages expected, {} arrived", self.messages().len());
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(listener: TcpListener, messages: Arc<Mutex<Vec<Received>>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let messages = messages.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let _ = write.write_all(b"220 sink ESMTP ready\r\n").await;
            let mut to = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                let command = line.to_ascii_uppercase();
                let reply: &[u8] = if command.starts_with("EHLO") {
                    b"250-sink\r\n250 8BITMIME\r\n"
                } else if command.starts_with("HELO") || command.starts_with("MAIL FROM") {
                    b"250 OK\r\n"
                } else if command.starts_with("RCPT TO") {
                    to.push(line[8..].trim().trim_matches(|c| c == '<' || c == '>').to_owned());
                    b"250 OK\r\n"
                } else if command == "DATA" {
                    let _ = write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await;
                    let mut data = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line == "." {
                            break;
                        }
                        data.push_str(line.strip_prefix('.').unwrap_or(&line));
                        data.push_str("\r\n");
                    }
                    messages.lock().unwrap().push(Received { to: std::mem::take(&mut to), data });
                    b"250 OK queued\r\n"
                } else if command.starts_with("RSET") || command.starts_with("NOOP") {
                    b"250 OK\r\n"
                } else if command.starts_with("QUIT") {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                } else {
                    b"502 not implemented\r\n"
                };
                if write.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}
