//! AWS event-stream framing (`application/vnd.amazon.eventstream`), the binary stream of
//! Bedrock's `ConverseStream`. A frame is a prelude — total length and headers length (u32,
//! big-endian) and the CRC32 of those 8 bytes — then the headers (name length u8, name, type
//! u8, value), the payload, and the CRC32 of everything before it.
//!
//! [`encode`] writes a frame, [`FrameSplitter`] cuts a byte stream into whole frames however it
//! was chunked (holding back only an unfinished one), and [`Frame::decode`] reads one, checking
//! both CRCs. Nothing here panics on bad bytes: a frame that does not add up is an error, and a
//! splitter that meets one hands the rest of the stream on as it comes.

use bytes::{BufMut, Bytes, BytesMut};

/// The content type of an event-stream body.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Total length, headers length, prelude CRC.
const PRELUDE_LEN: usize = 12;
const CRC_LEN: usize = 4;
/// A frame with no headers and no payload.
const MIN_FRAME: usize = PRELUDE_LEN + CRC_LEN;
/// The most headers a frame may carry (botocore's limit too).
const MAX_HEADERS: usize = 128 * 1024;
/// The longest frame accepted: a 16 MiB payload and the most headers.
pub const MAX_FRAME: usize = 16 * 1024 * 1024 + MAX_HEADERS + MIN_FRAME;

/// Header value types, as the format numbers them.
const TYPE_TRUE: u8 = 0;
const TYPE_FALSE: u8 = 1;
const TYPE_BYTE: u8 = 2;
const TYPE_SHORT: u8 = 3;
const TYPE_INT: u8 = 4;
const TYPE_LONG: u8 = 5;
const TYPE_BYTES: u8 = 6;
const TYPE_STRING: u8 = 7;
const TYPE_TIMESTAMP: u8 = 8;
const TYPE_UUID: u8 = 9;

/// Why bytes are not a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the frame's lengths do not add up (total {total}, headers {headers})")]
    Length { total: u32, headers: u32 },
    #[error("the prelude's CRC does not match")]
    PreludeCrc,
    #[error("the message's CRC does not match")]
    MessageCrc,
    #[error("a header is malformed")]
    Header,
}

/// One header's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(&'a [u8]),
    String(&'a str),
    /// Milliseconds since the epoch.
    Timestamp(i64),
    Uuid(&'a [u8]),
}

/// A frame with `headers` (all strings, as Bedrock's are) and `payload`.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let headers_len: usize = headers.iter().map(|(name, value)| 1 + name.len() + 1 + 2 + value.len()).sum();
    let total = MIN_FRAME + headers_len + payload.len();
    let mut frame = BytesMut::with_capacity(total);
    frame.put_u32(total as u32);
    frame.put_u32(headers_len as u32);
    frame.put_u32(crc32fast::hash(&frame[..8]));
    for (name, value) in headers {
        frame.put_u8(name.len() as u8);
        frame.put_slice(name.as_bytes());
        frame.put_u8(TYPE_STRING);
        frame.put_u16(value.len() as u16);
        frame.put_slice(value.as_bytes());
    }
    frame.put_slice(payload);
    let crc = crc32fast::hash(&frame);
    frame.put_u32(crc);
    frame.freeze()
}

/// The frame's total length from its prelude, once the prelude is checked.
fn frame_len(prelude: &[u8]) -> Result<usize, FrameError> {
    let word =
        |at: usize| u32::from_be_bytes([prelude[at], prelude[at + 1], prelude[at + 2], prelude[at + 3]]);
    let (total, headers) = (word(0), word(4));
    if crc32fast::hash(&prelude[..8]) != word(8) {
        return Err(FrameError::PreludeCrc);
    }
    let fits = (MIN_FRAME..=MAX_FRAME).contains(&(total as usize))
        && headers as usize <= MAX_HEADERS
        && headers as usize <= total as usize - MIN_FRAME;
    match fits {
        true => Ok(total as usize),
        false => Err(FrameError::Length { total, headers }),
    }
}

/// One decoded frame: its headers in order and its payload, borrowed from the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    pub headers: Vec<(&'a str, HeaderValue<'a>)>,
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Reads exactly one frame, checking its lengths and both CRCs.
    pub fn decode(bytes: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        if bytes.len() < MIN_FRAME {
            return Err(FrameError::Length { total: bytes.len() as u32, headers: 0 });
        }
        let total = frame_len(&bytes[..PRELUDE_LEN])?;
        if total != bytes.len() {
            return Err(FrameError::Length { total: total as u32, headers: 0 });
        }
        let (body, crc) = bytes.split_at(total - CRC_LEN);
        if crc32fast::hash(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(FrameError::MessageCrc);
        }
        let headers_len = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let (headers, payload) = body[PRELUDE_LEN..].split_at(headers_len);
        Ok(Frame { headers: read_headers(headers)?, payload })
    }

    /// A header's value by name.
    pub fn header(&self, name: &str) -> Option<HeaderValue<'a>> {
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, value)| *value)
    }

    /// A string header's value by name.
    pub fn string(&self, name: &str) -> Option<&'a str> {
        match self.header(name)? {
            HeaderValue::String(value) => Some(value),
            _ => None,
        }
    }

    /// `:message-type`: `event`, `exception` or `error`.
    pub fn message_type(&self) -> Option<&'a str> {
        self.string(":message-type")
    }

    /// `:event-type` of an event (`contentBlockDelta`), or `:exception-type` of an exception.
    pub fn event_type(&self) -> Option<&'a str> {
        self.string(":event-type").or_else(|| self.string(":exception-type"))
    }
}

fn read_headers(mut bytes: &[u8]) -> Result<Vec<(&str, HeaderValue<'_>)>, FrameError> {
    let mut headers = Vec::new();
    while !bytes.is_empty() {
        let name_len = usize::from(bytes[0]);
        let name = bytes.get(1..1 + name_len).ok_or(FrameError::Header)?;
        let name = std::str::from_utf8(name).map_err(|_| FrameError::Header)?;
        let kind = *bytes.get(1 + name_len).ok_or(FrameError::Header)?;
        let rest = &bytes[2 + name_len..];
        let (value, used) = read_value(kind, rest).ok_or(FrameError::Header)?;
        headers.push((name, value));
        bytes = &rest[used..];
    }
    Ok(headers)
}

/// A value of type `kind` at the start of `bytes`, and how many bytes it took.
fn read_value(kind: u8, bytes: &[u8]) -> Option<(HeaderValue<'_>, usize)> {
    let fixed = |n: usize| bytes.get(..n);
    let be = |n: usize| fixed(n).map(|b| b.iter().fold(0u64, |acc, byte| acc << 8 | u64::from(*byte)));
    Some(match kind {
        TYPE_TRUE => (HeaderValue::Bool(true), 0),
        TYPE_FALSE => (HeaderValue::Bool(false), 0),
        TYPE_BYTE => (HeaderValue::Byte(be(1)? as u8 as i8), 1),
        TYPE_SHORT => (HeaderValue::Short(be(2)? as u16 as i16), 2),
        TYPE_INT => (HeaderValue::Int(be(4)? as u32 as i32), 4),
        TYPE_LONG => (HeaderValue::Long(be(8)? as i64), 8),
        TYPE_TIMESTAMP => (HeaderValue::Timestamp(be(8)? as i64), 8),
        TYPE_UUID => (HeaderValue::Uuid(fixed(16)?), 16),
        TYPE_BYTES | TYPE_STRING => {
            let len = be(2)? as usize;
            let value = bytes.get(2..2 + len)?;
            let value = match kind {
                TYPE_STRING => HeaderValue::String(std::str::from_utf8(value).ok()?),
                _ => HeaderValue::Bytes(value),
            };
            (value, 2 + len)
        }
        _ => return None,
    })
}

/// Cuts a byte stream into whole frames by their preludes. A prelude that does not check
/// (a stream that is not event-stream, or is corrupt) breaks the framing: from then on bytes
/// are handed on as they come, so nothing is lost or reordered.
#[derive(Debug, Default)]
pub struct FrameSplitter {
    pending: BytesMut,
    broken: bool,
}

impl FrameSplitter {
    /// Adds bytes; returns the frames they completed (after a break, the bytes themselves).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Bytes> {
        self.pending.extend_from_slice(bytes);
        let mut frames = Vec::new();
        while !self.broken && self.pending.len() >= PRELUDE_LEN {
            match frame_len(&self.pending[..PRELUDE_LEN]) {
                Ok(total) if self.pending.len() >= total => {
                    frames.push(self.pending.split_to(total).freeze())
                }
                Ok(_) => break,
                Err(_) => self.broken = true,
            }
        }
        if self.broken && !self.pending.is_empty() {
            frames.push(self.pending.split().freeze());
        }
        frames
    }

    /// Whatever is left when the stream ends (an unfinished frame), if anything.
    pub fn finish(&mut self) -> Option<Bytes> {
        (!self.pending.is_empty()).then(|| self.pending.split().freeze())
    }

    /// Whether a prelude failed its check (the rest went on unframed).
    pub fn is_broken(&self) -> bool {
        self.broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from botocore's tests/unit/test_eventstream.py (the encoded bytes and what they
    // decode to), written here as hex.
    const EMPTY: &str = "000000100000000005c248eb7d98c8ff";
    const INT8: &str = "000000170000000729860158046279746502ffc2f869dc";
    const ONE_STRING_HEADER: &str = "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f273a27626172277d8d9c08b1";
    const ALL_TYPES: &str = "000000620000005203b5cb9c0130000131010132020201330300030134040000000401350500000000000000050136060005627974657301370700047574663801380800000000000000080139093031323334353637383961626364656663353671";
    const ERROR_MESSAGE: &str = "0000005200000042bf23637e0d3a6d6573736167652d747970650700056572726f720b3a6572726f722d636f6465070004636f64650e3a6572726f722d6d6573736167650700076d6573736167656b6cea3d";
    const CORRUPTED_PAYLOAD: &str = "0000001d00000000fd528c5a7b27666f6f273a27626172278dc3653936";
    const CORRUPTED_LENGTH: &str = "0100001d00000000fd528c5a7b27666f6f273a27626172277dc3653936";
    const CORRUPTED_HEADERS: &str = "0000003d0000002007fd83960c636f6e74656e742b747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f273a27626172277d8d9c08b1";

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn botocore_s_vectors_decode_with_their_crcs() {
        assert_eq!(Frame::decode(&hex(EMPTY)), Ok(Frame { headers: vec![], payload: b"" }));
        let int8 = hex(INT8);
        assert_eq!(Frame::decode(&int8).unwrap().header("byte"), Some(HeaderValue::Byte(-1)));
        let one = hex(ONE_STRING_HEADER);
        let frame = Frame::decode(&one).unwrap();
        assert_eq!(frame.string("content-type"), Some("application/json"));
        assert_eq!(frame.payload, b"{'foo':'bar'}");
        assert_eq!(crc32fast::hash(&one[..8]), 0x07fd_8396, "the prelude CRC botocore states");
        assert_eq!(crc32fast::hash(&one[..one.len() - 4]), 0x8d9c_08b1, "the message CRC botocore states");
        let error = hex(ERROR_MESSAGE);
        let frame = Frame::decode(&error).unwrap();
        assert_eq!(frame.message_type(), Some("error"));
        assert_eq!(frame.string(":error-message"), Some("message"));
    }

    #[test]
    fn every_header_type_is_read() {
        let all = hex(ALL_TYPES);
        let frame = Frame::decode(&all).unwrap();
        let values: Vec<HeaderValue> = frame.headers.iter().map(|(_, v)| *v).collect();
        assert_eq!(
            values,
            [
                HeaderValue::Bool(true),
                HeaderValue::Bool(false),
                HeaderValue::Byte(2),
                HeaderValue::Short(3),
                HeaderValue::Int(4),
                HeaderValue::Long(5),
                HeaderValue::Bytes(b"bytes"),
                HeaderValue::String("utf8"),
                HeaderValue::Timestamp(8),
                HeaderValue::Uuid(b"0123456789abcdef"),
            ]
        );
    }

    #[test]
    fn corrupt_frames_are_errors_never_panics() {
        assert_eq!(Frame::decode(&hex(CORRUPTED_PAYLOAD)), Err(FrameError::MessageCrc));
        assert_eq!(Frame::decode(&hex(CORRUPTED_HEADERS)), Err(FrameError::MessageCrc));
        assert_eq!(Frame::decode(&hex(CORRUPTED_LENGTH)), Err(FrameError::PreludeCrc));
        let whole = hex(ALL_TYPES);
        for len in 0..whole.len() {
            assert!(Frame::decode(&whole[..len]).is_err(), "{len} bytes");
        }
        // Headers that run past their block, with CRCs that check.
        let torn = encode(&[("n", "value")], b"");
        let mut bytes = torn.to_vec();
        bytes[PRELUDE_LEN + 3] = 0xff; // the string's length
        let crc = crc32fast::hash(&bytes[..bytes.len() - 4]);
        let at = bytes.len() - 4;
        bytes[at..].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(Frame::decode(&bytes), Err(FrameError::Header));
    }

    #[test]
    fn encoding_gives_botocore_s_bytes() {
        assert_eq!(&encode(&[], b"")[..], &hex(EMPTY)[..]);
        let one = encode(&[("content-type", "application/json")], b"{'foo':'bar'}");
        assert_eq!(&one[..], &hex(ONE_STRING_HEADER)[..]);
    }

    #[test]
    fn split_at_every_byte_boundary_the_frames_are_the_same() {
        let stream: Vec<u8> =
            [EMPTY, INT8, ONE_STRING_HEADER, ALL_TYPES, ERROR_MESSAGE].iter().flat_map(|h| hex(h)).collect();
        let whole = FrameSplitter::default().push(&stream);
        assert_eq!(whole.len(), 5);
        for cut in 0..=stream.len() {
            let mut splitter = FrameSplitter::default();
            let mut frames = splitter.push(&stream[..cut]);
            frames.extend(splitter.push(&stream[cut..]));
            assert_eq!(frames, whole, "cut at {cut}");
            assert!(splitter.finish().is_none());
            assert!(frames.iter().all(|frame| Frame::decode(frame).is_ok()));
        }
        for size in 1..stream.len() {
            let mut splitter = FrameSplitter::default();
            let frames: Vec<Bytes> = stream.chunks(size).flat_map(|c| splitter.push(c)).collect();
            assert_eq!(frames, whole, "chunks of {size}");
        }
    }

    #[test]
    fn an_unfinished_frame_is_handed_back_at_the_end() {
        let frame = hex(ONE_STRING_HEADER);
        let mut splitter = FrameSplitter::default();
        assert!(splitter.push(&frame[..20]).is_empty());
        assert_eq!(splitter.finish().as_deref(), Some(&frame[..20]));
    }

    #[test]
    fn bytes_that_are_not_frames_pass_on_whole_and_in_order() {
        let mut splitter = FrameSplitter::default();
        let mut stream = hex(EMPTY);
        stream.extend_from_slice(b"data: not a frame at all\n\n");
        let mut out: Vec<u8> = stream.chunks(5).flat_map(|c| splitter.push(c)).flatten().collect();
        out.extend(splitter.finish().unwrap_or_default());
        assert_eq!(out, stream);
        assert!(splitter.is_broken());
    }
}
