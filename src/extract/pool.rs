//! The extraction threads: a few long-lived threads with the deep extraction stack,
//! shared by every caller in the process (`postroom extract`, the ingest pipeline, the
//! Lambda handlers).
//!
//! A thread per document cost a thread start, fresh stack pages to fault in and a
//! cross-CPU TLB flush when its stack was unmapped, once per document. The pool keeps
//! one thread per core. Each serves [`JOBS_PER_THREAD`] documents and then hands over to
//! a fresh thread, so that stack pages a deep document touched are given back rather
//! than kept for the life of the process. A job that panics is reported to its caller
//! and the thread carries on.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

/// Stack for extraction threads: deep but bounded recursion in parsers of hostile input
/// must not overflow the (small) stack of an async worker.
const EXTRACT_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Documents a thread extracts before a fresh thread takes over from it.
const JOBS_PER_THREAD: usize = 64;

type Job = Box<dyn FnOnce() + Send>;
type Queue = Arc<Mutex<Receiver<Job>>>;

/// Why a job gave no answer.
pub type Panic = Box<dyn Any + Send>;

struct Pool {
    jobs: Sender<Job>,
}

fn pool() -> Option<&'static Pool> {
    static POOL: OnceLock<Option<Pool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (jobs, queue) = channel::<Job>();
        let queue: Queue = Arc::new(Mutex::new(queue));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8));
        let started = (0..threads)
            .filter(|_| start(Arc::clone(&queue)).is_ok())
            .count();
        // Not one thread could start: callers fall back to a thread of their own.
        (started > 0).then_some(Pool { jobs })
    })
    .as_ref()
}

fn start(queue: Queue) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("extract".into())
        .stack_size(EXTRACT_STACK_BYTES)
        .spawn(move || serve(queue))
        .map(drop)
}

/// A pool thread: runs jobs until it has served its share, then starts its successor
/// (or, if none can start, goes on serving itself, so the pool never shrinks to none).
fn serve(queue: Queue) {
    loop {
        for _ in 0..JOBS_PER_THREAD {
            let job = match queue.lock() {
                Ok(receiver) => receiver.recv(),
                Err(poisoned) => poisoned.into_inner().recv(),
            };
            match job {
                Ok(job) => job(),
                Err(_) => return, // the pool is gone: the process is ending
            }
        }
        if start(Arc::clone(&queue)).is_ok() {
            return;
        }
    }
}

/// Runs `work` on an extraction thread and calls `done` there with its result (or the
/// panic that stopped it).
pub fn submit<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
    done: impl FnOnce(Result<T, Panic>) + Send + 'static,
) -> Result<(), String> {
    let job: Job = Box::new(move || done(catch_unwind(AssertUnwindSafe(work))));
    match pool() {
        Some(pool) => pool
            .jobs
            .send(job)
            .map_err(|_| "the extraction threads stopped".to_owned()),
        None => std::thread::Builder::new()
            .name("extract".into())
            .stack_size(EXTRACT_STACK_BYTES)
            .spawn(job)
            .map(drop)
            .map_err(|e| format!("could not start an extraction thread: {e}")),
    }
}

/// Runs `work` on an extraction thread and waits for it (for callers that are not async).
pub fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (tx, rx) = channel();
    submit(work, move |result| {
        let _ = tx.send(result);
    })?;
    match rx.recv() {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err("the extraction panicked".to_owned()),
        Err(_) => Err("the extraction thread stopped without an answer".to_owned()),
    }
}

/// Runs `work` on an extraction thread and awaits it without holding an async worker or
/// a thread of the blocking pool.
pub async fn run_async<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    submit(work, move |result| {
        let _ = tx.send(result);
    })?;
    match rx.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err("the extraction panicked".to_owned()),
        Err(_) => Err("the extraction thread stopped without an answer".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_deep_stack_and_a_panic_is_reported_not_fatal() {
        let name = run(|| std::thread::current().name().map(str::to_owned)).expect("run");
        assert_eq!(name.as_deref(), Some("extract"));
        assert!(run(|| -> u8 { panic!("a parser bug") }).is_err());
        // The threads carry on, past the point where each hands over to a fresh one.
        for i in 0..3 * JOBS_PER_THREAD {
            assert_eq!(run(move || i * 2).expect("run"), i * 2);
        }
    }

    #[tokio::test]
    async fn async_callers_await_without_blocking() {
        let answers = futures::future::join_all((0..32).map(|i| run_async(move || i + 1))).await;
        let sum: usize = answers.into_iter().map(|a| a.expect("answer")).sum();
        assert_eq!(sum, (1..=32).sum::<usize>());
    }
}
