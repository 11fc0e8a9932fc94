//! Tokio peer of aio's multi-core benchmarks (bench/multicore-compare): the multi-thread
//! runtime with exactly 2 worker threads.
//!
//! Usage: tokio-mt-bench WORKLOAD N
//!   spawn N      N tasks (tokio::spawn), each yields once (yield_now) and returns i; the main
//!                task joins them all and checks the sum is N(N-1)/2
//!   xpingpong N  two tasks pass a token N times through two mpsc::channel(1) (ping, pong)
//!   xchannel N   a producer task sends 0..N-1 through an mpsc::channel(1024) to a consumer
//!                task that sums them (checked)
//!
//! The workload's main task is itself spawned onto the runtime (not run by block_on on the
//! main thread), so it and every task it spawns run on the two workers. One JSON line on
//! stdout; only the work is timed. Exit 0 on success, 1 if a self-check fails, 2 for a usage
//! error.
use std::time::Instant;

use tokio::sync::mpsc;

const WORKERS: usize = 2;

// Set by `setup` from the Debian crate it builds against.
const TOKIO_VERSION: &str = match option_env!("TOKIO_VERSION") {
    Some(v) => v,
    None => "unknown",
};

fn emit(workload: &str, n: u64, s: f64) {
    let rate = if s > 0.0 { n as f64 / s } else { 0.0 };
    println!(
        "{{\"workload\":\"{}\",\"impl\":\"tokio-mt\",\"n\":{},\"seconds\":{:.9},\"ops_per_s\":{:.3},\
         \"worker_threads\":{},\"tokio\":\"{}\"}}",
        workload, n, s, rate, WORKERS, TOKIO_VERSION
    );
}

fn fail(msg: String) -> ! {
    eprintln!("{}", msg);
    std::process::exit(1);
}

async fn spawn(n: u64) {
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(n as usize);
    for i in 0..n {
        handles.push(tokio::spawn(async move {
            tokio::task::yield_now().await;
            i
        }));
    }
    let mut sum: u64 = 0;
    for h in handles {
        sum += h.await.expect("task failed");
    }
    let s = t0.elapsed().as_secs_f64();
    let want = if n > 0 { n * (n - 1) / 2 } else { 0 };
    if sum != want {
        fail(format!("spawn: bad sum {} (want {})", sum, want));
    }
    emit("spawn", n, s);
}

async fn xpingpong(n: u64) {
    let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
    let t0 = Instant::now();
    let ponger = tokio::spawn(async move {
        for _ in 0..n {
            let v = ping_rx.recv().await.expect("ping closed");
            pong_tx.send(v + 1).await.expect("pong closed");
        }
    });
    let pinger = tokio::spawn(async move {
        let mut v: u64 = 0;
        for _ in 0..n {
            ping_tx.send(v).await.expect("ping closed");
            v = pong_rx.recv().await.expect("pong closed");
        }
        v
    });
    let v = pinger.await.expect("pinger failed");
    ponger.await.expect("ponger failed");
    let s = t0.elapsed().as_secs_f64();
    if v != n {
        fail(format!("xpingpong: bad token {} (want {})", v, n));
    }
    emit("xpingpong", n, s);
}

async fn xchannel(n: u64) {
    let (tx, mut rx) = mpsc::channel::<u64>(1024);
    let t0 = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).await.expect("consumer gone");
        }
        // dropping tx closes the channel: the consumer's recv() then returns None
    });
    let consumer = tokio::spawn(async move {
        let mut sum: u64 = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        sum
    });
    producer.await.expect("producer failed");
    let sum = consumer.await.expect("consumer failed");
    let s = t0.elapsed().as_secs_f64();
    let want = if n > 0 { n * (n - 1) / 2 } else { 0 };
    if sum != want {
        fail(format!("xchannel: bad sum {} (want {})", sum, want));
    }
    emit("xchannel", n, s);
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("tokio-mt-bench: {}", msg);
    }
    eprintln!("usage: tokio-mt-bench spawn|xpingpong|xchannel N");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        usage("");
    }
    let n: u64 = match args[2].parse() {
        Ok(n) => n,
        Err(_) => usage("N must be a non-negative integer"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .expect("runtime");
    let work = match args[1].as_str() {
        "spawn" => rt.spawn(spawn(n)),
        "xpingpong" => rt.spawn(xpingpong(n)),
        "xchannel" => rt.spawn(xchannel(n)),
        w => usage(&format!("unknown workload {}", w)),
    };
    rt.block_on(work).expect("main task failed");
}
