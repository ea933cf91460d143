//! Helpers shared by the emulator tests: plain reqwest + serde_json (no client code from
//! `deltascope::graph`, which these tests must not depend on).
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use deltascope::emulator::{self, Emulator, EmulatorConfig};
use serde_json::Value;

pub struct Emu {
    pub emu: Emulator,
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Resp {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {}", &self.text[..self.text.len().min(300)])
        })
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

pub async fn start(config: EmulatorConfig) -> Emu {
    let emu = emulator::start(config, loopback()).await.unwrap();
    let base = emu.base_url();
    Emu {
        emu,
        http: reqwest::Client::new(),
        base,
    }
}

pub async fn start_default() -> Emu {
    start(EmulatorConfig::default()).await
}

/// A completed (or failed) round: the pages' bodies and the final deltaLink.
pub struct Round {
    pub pages: Vec<Value>,
    pub items: Vec<Value>,
    pub delta_link: String,
}

impl Round {
    pub fn ids(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    }
    pub fn by_id(&self, id: &str) -> Option<&Value> {
        self.items.iter().rev().find(|i| i["id"] == id)
    }
}

impl Emu {
    /// Waits (at most 20 s, polling) until a round from each of `links` has changes.
    pub async fn wait_for_changes(&self, links: Vec<String>) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut pending = links;
        while !pending.is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "no change yet from {pending:?}"
            );
            let mut still = Vec::new();
            for l in pending {
                if self.round(&l, false).await.items.is_empty() {
                    still.push(l);
                }
            }
            pending = still;
            if !pending.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        let mut rb = self.http.get(url);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = r.text().await.unwrap_or_default();
        Resp {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&self, url: &str) -> Resp {
        self.get_with(url, &[("Authorization", "Bearer test-token")])
            .await
    }

    pub async fn get_minimal(&self, url: &str) -> Resp {
        self.get_with(
            url,
            &[
                ("Authorization", "Bearer test-token"),
                ("Prefer", "return=minimal"),
            ],
        )
        .await
    }

    /// Follows nextLinks from `url` to the deltaLink, asserting 200 on every page.
    pub async fn round(&self, url: &str, minimal: bool) -> Round {
        let mut pages = Vec::new();
        let mut items = Vec::new();
        let mut next = url.to_string();
        for _ in 0..100_000 {
            let r = if minimal {
                self.get_minimal(&next).await
            } else {
                self.get(&next).await
            };
            assert_eq!(r.status, 200, "GET {next}: {}", r.text);
            let body = r.json();
            items.extend(body["value"].as_array().unwrap().iter().cloned());
            let nl = body["@odata.nextLink"].as_str().map(str::to_string);
            let dl = body["@odata.deltaLink"].as_str().map(str::to_string);
            assert!(
                nl.is_some() != dl.is_some(),
                "exactly one of nextLink/deltaLink: {body}"
            );
            pages.push(body);
            match (nl, dl) {
                (Some(n), _) => next = n,
                (None, Some(d)) => {
                    return Round {
                        pages,
                        items,
                        delta_link: d,
                    };
                }
                _ => unreachable!(),
            }
        }
        panic!("round did not end");
    }

    /// Sends `method` to `path` (with `body` as JSON text if any): the status and the JSON
    /// answer, which must be JSON.
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(body) = body {
            rb = rb.body(body.to_string());
        }
        let r = rb.send().await.unwrap();
        let s = r.status().as_u16();
        (s, serde_json::from_str(&r.text().await.unwrap()).unwrap())
    }

    /// POSTs `body` to `path`: the status and the JSON answer.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// PATCHes `path` with `body`: the status and the JSON answer.
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    /// PUTs `body` to `path`: the status and the JSON answer.
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    /// DELETEs `path`: the status and the JSON answer.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}
