//! A connection's I/O whose writes fail once the client has taken no byte
//! for a set time (see [`crate::connections`]).
//!
//! Only a stall counts: the clock runs while the server has bytes to write
//! and the socket accepts none (`poll_write` or `poll_flush` keeps
//! answering `Pending`), and stops at the first byte accepted. A handler
//! that is busy (an upload's ingest) writes nothing, and a request body
//! that is slow to arrive is a read: neither is timed here. A client that
//! asks for a large download and stops reading fills the socket's buffers;
//! after the limit its write fails with `TimedOut`, hyper ends the
//! connection, and the socket is closed.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// `I`, whose writes fail after `limit` without progress.
#[derive(Debug)]
pub struct WriteStall<I> {
    inner: I,
    limit: Duration,
    /// Running while a write (or flush, or shutdown) is pending.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<I> WriteStall<I> {
    pub fn new(inner: I, limit: Duration) -> Self {
        Self { inner, limit, stalled: None }
    }

    /// Passes a ready answer on and stops the clock; on `Pending`, starts
    /// it (once) and fails when it has run out.
    fn timed<T>(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let limit = self.limit;
        let stalled = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => {
                tracing::debug!(?limit, "connection closed: the client took no byte within the write stall limit");
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the client took no byte for {limit:?}"),
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for WriteStall<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for WriteStall<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.timed(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.timed(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.timed(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.timed(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
