//! How far a response body has come, by its framing: of the bytes read after its head, which
//! belong to it, which of those are its data, and whether it has ended. The interposer relays
//! the bytes it takes as they are; the load generator reads their data.

use std::ops::Range;

use smallvec::SmallVec;

use super::{ChunkError, ChunkedTracker, Framing};

/// Where the data lies in one read's bytes, as [`BodyProgress::take`] hands it out: chunked
/// framing interleaves sizes with the data, one run a chunk. Room for 32 runs in place: a read of
/// a stream whose events came one chunk each holds many (20 for a 16-token answer), and a run list
/// that spilled to the heap cost a streamed request ~3k instructions in reallocations.
pub type DataRuns = SmallVec<[Range<usize>; 32]>;

/// A body in progress.
#[derive(Debug)]
pub struct BodyProgress {
    framing: Framing,
    /// For a body of known length, the bytes still to come.
    left: u64,
    chunks: ChunkedTracker,
}

impl BodyProgress {
    pub fn new(framing: Framing) -> Self {
        let left = match framing {
            Framing::Length(length) => length,
            _ => 0,
        };
        BodyProgress { framing, left, chunks: ChunkedTracker::default() }
    }

    /// Of `bytes` (the next read after the head), how many belong to the body, handing where
    /// its data lies in them to `data`; and whether the body ended within them.
    pub fn take(
        &mut self,
        bytes: &[u8],
        mut data: impl FnMut(Range<usize>),
    ) -> Result<(usize, bool), ChunkError> {
        Ok(match self.framing {
            Framing::Empty => (0, true),
            Framing::Length(_) => {
                let taken = bytes.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
                if taken > 0 {
                    data(0..taken);
                }
                self.left -= taken as u64;
                (taken, self.left == 0)
            }
            Framing::Chunked => {
                let taken = self.chunks.feed(bytes, data)?;
                (taken, self.chunks.is_done())
            }
            Framing::UntilClose => {
                if !bytes.is_empty() {
                    data(0..bytes.len());
                }
                (bytes.len(), false)
            }
        })
    }

    /// Whether the connection's end is the body's proper end (a body framed by the close).
    pub fn ends_at_close(&self) -> bool {
        self.framing == Framing::UntilClose
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `reads` in turn; the data seen, the bytes taken from each, and whether it ended.
    fn follow(framing: Framing, reads: &[&[u8]]) -> (Vec<u8>, Vec<usize>, bool) {
        let mut progress = BodyProgress::new(framing);
        let (mut data, mut taken, mut ended) = (Vec::new(), Vec::new(), false);
        for read in reads {
            let (took, done) =
                progress.take(read, |piece| data.extend_from_slice(&read[piece])).expect("well framed");
            taken.push(took);
            ended = done;
        }
        (data, taken, ended)
    }

    #[test]
    fn each_framing_takes_its_own_bytes_and_no_more() {
        assert_eq!(follow(Framing::Length(5), &[b"he", b"lloNEXT"]), (b"hello".to_vec(), vec![2, 3], true));
        assert!(!follow(Framing::Length(5), &[b"hel"]).2);
        assert_eq!(follow(Framing::Empty, &[b"NEXT"]), (Vec::new(), vec![0], true));
        assert_eq!(
            follow(Framing::Chunked, &[b"2\r\nhi\r\n0\r\n\r\nNEXT"]),
            (b"hi".to_vec(), vec![12], true)
        );
        let until_close = follow(Framing::UntilClose, &[b"all", b" of it"]);
        assert_eq!(until_close, (b"all of it".to_vec(), vec![3, 6], false));
        assert!(BodyProgress::new(Framing::UntilClose).ends_at_close());
        assert!(!BodyProgress::new(Framing::Length(1)).ends_at_close());
    }
}
