//! Capture files as a source: streamed line by line on a blocking thread, so a 10 GB capture
//! needs the same memory as a 10 MB one. gzip and zstd are recognised by their magic bytes
//! (whatever the file is called, stdin too).
//!
//! Line rules (DESIGN.md, "Hard cases"): a line ends at `\n`; a trailing `\r`, blank lines and
//! a UTF-8 byte-order mark at the start are not errors; a last line without `\n` counts; a
//! line over the limit is rejected whole, without holding it in memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use super::replay::Plan;
use crate::core::{Feed, LineFormat, Source, SourceError};
pub use crate::exit::OpenError;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
pub(super) const BOM: &[u8] = b"\xef\xbb\xbf";

/// One opened input, decompressed.
pub struct Input {
    /// The name reports use: the path as given, `-` for stdin.
    pub name: Arc<str>,
    /// Where it is opened from again for another pass (`--loop`); `-` for stdin.
    pub(super) path: PathBuf,
    pub(super) reader: Box<dyn BufRead + Send>,
    /// Bytes of the (decompressed) stream, where known: plain regular files.
    pub(super) size: Option<u64>,
    /// Whether the content is read as it is (not decompressed).
    plain: bool,
    /// Bytes of the file as stored (compressed or not), for the progress bar.
    pub(super) stored_size: Option<u64>,
    /// Bytes of it consumed so far, as stored.
    pub(super) consumed: Arc<AtomicU64>,
}

impl Input {
    /// Opens a path (`-` is stdin), decompressing gzip or zstd content.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let open_error = |source| OpenError {
            path: path.to_owned(),
            from: None,
            source,
        };
        let (raw, size): (Box<dyn Read + Send>, _) = if path == Path::new("-") {
            (Box::new(io::stdin()), None)
        } else {
            let file = File::open(path).map_err(open_error)?;
            let metadata = file.metadata().map_err(open_error)?;
            if metadata.is_dir() {
                return Err(open_error(io::Error::other("it is a directory")));
            }
            (Box::new(file), metadata.is_file().then_some(metadata.len()))
        };
        let name: Arc<str> = Arc::from(path.display().to_string());
        let mut input = Input::from_reader(name, raw).map_err(open_error)?;
        if input.plain {
            input.size = size;
        }
        input.stored_size = size;
        input.path = path.to_owned();
        Ok(input)
    }

    /// An input over any reader, decompressing gzip or zstd content.
    pub fn from_reader(name: Arc<str>, raw: Box<dyn Read + Send>) -> io::Result<Self> {
        let consumed = Arc::new(AtomicU64::new(0));
        let raw = Counting {
            inner: raw,
            consumed: consumed.clone(),
        };
        let mut buffered = BufReader::with_capacity(256 * 1024, raw);
        let head = buffered.fill_buf()?;
        let (reader, plain): (Box<dyn BufRead + Send>, _) = if head.starts_with(GZIP_MAGIC) {
            let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
            (
                Box::new(BufReader::with_capacity(256 * 1024, decoder)),
                false,
            )
        } else if head.starts_with(ZSTD_MAGIC) {
            let decoder = zstd::stream::read::Decoder::with_buffer(buffered)?;
            (
                Box::new(BufReader::with_capacity(256 * 1024, decoder)),
                false,
            )
        } else {
            (Box::new(buffered), true)
        };
        // The size is known only for plain content of a regular file (`open` fills it in).
        Ok(Input {
            path: PathBuf::from(&*name),
            name,
            reader,
            size: None,
            plain,
            stored_size: None,
            consumed,
        })
    }
}

/// Counts the bytes read through it, for the progress bar (compressed bytes, for a
/// compressed input).
struct Counting {
    inner: Box<dyn Read + Send>,
    consumed: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Relaxed);
        Ok(n)
    }
}

/// Opens every path first, so a missing file fails the run before anything is sent.
pub fn open_all(paths: &[PathBuf]) -> Result<Vec<Input>, OpenError> {
    paths.iter().map(|p| Input::open(p)).collect()
}

/// Capture files, read by a [`Plan`]: by default once, in turn, as fast as they are taken.
pub struct FileSource {
    /// The inputs, opened, in the order they are read.
    pub inputs: Vec<Input>,
    /// How their lines are read.
    pub format: LineFormat,
    /// Longer lines are rejected whole.
    pub max_line_bytes: usize,
    /// Pace, loop, merge, shard, order and checkpoint (`replay`'s operator options).
    pub plan: Plan,
}

impl Source for FileSource {
    /// Reads the inputs; when the run stops early, records where each input not read to its
    /// end stopped.
    async fn run(self, feed: Feed) -> Result<(), SourceError> {
        self.plan_run(feed).await
    }
}

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// A line (without its `\n`) is in the buffer; the count includes the `\n`.
    Complete(u64),
    /// A line over the limit was skipped; its length.
    TooLong(u64),
    /// No more input.
    End,
}

pub(super) fn read_line(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    let mut total = 0u64;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (total, too_long) {
                (0, _) => Line::End,
                (n, true) => Line::TooLong(n),
                (n, false) => Line::Complete(n),
            });
        }
        let (chunk, found) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        let chunk_len = chunk.len();
        if !too_long {
            if buf.len() + chunk_len > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        total += chunk_len as u64;
        let consumed = chunk_len + usize::from(found);
        reader.consume(consumed);
        if found {
            total += 1;
            return Ok(if too_long {
                Line::TooLong(total)
            } else {
                Line::Complete(total)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(Line, Vec<u8>)> {
        // A tiny buffer so lines straddle reads.
        let mut reader = BufReader::with_capacity(3, input);
        let mut out = Vec::new();
        loop {
            let mut buf = Vec::new();
            match read_line(&mut reader, &mut buf, max).unwrap() {
                Line::End => return out,
                line => out.push((line, buf)),
            }
        }
    }

    #[test]
    fn splits_lines_and_counts_bytes() {
        let got = lines(b"ab\ncdef\n\nlast", 100);
        assert_eq!(
            got,
            vec![
                (Line::Complete(3), b"ab".to_vec()),
                (Line::Complete(5), b"cdef".to_vec()),
                (Line::Complete(1), b"".to_vec()),
                (Line::Complete(4), b"last".to_vec()),
            ]
        );
    }

    #[test]
    fn long_lines_are_skipped_whole_not_truncated() {
        let got = lines(b"0123456789\nok\n0123456789", 5);
        assert_eq!(
            got,
            vec![
                (Line::TooLong(11), vec![]),
                (Line::Complete(3), b"ok".to_vec()),
                (Line::TooLong(10), vec![]),
            ]
        );
    }

    #[test]
    fn decompresses_by_content_not_name() {
        use std::io::Write;
        let text = b"{\"a\":1}\n{\"b\":2}\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&text[..], 1).unwrap();
        for data in [gz, zst, text.to_vec()] {
            let mut input =
                Input::from_reader(Arc::from("x"), Box::new(io::Cursor::new(data))).unwrap();
            let mut all = Vec::new();
            input.reader.read_to_end(&mut all).unwrap();
            assert_eq!(all, text);
        }
    }
}
