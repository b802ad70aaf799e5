//! `DirBlobs`: the embedded `Blobs` adapter, objects as files in a local folder.
//!
//! A key's `/`-separated segments become folders, so the folder reads like the bucket.
//! Each segment is escaped so that any key maps to one path and back:
//! `%` and control bytes become `%XX`, a leading `.` becomes `%2E` (so no segment is
//! `.`/`..` or hidden), an empty segment is `%_`, and a segment longer than
//! [`PIECE_BYTES`] is cut into folders whose names end in `%+` ("continues").
//! Metadata lives beside the object in `<name>%meta` (JSON). Writes go to a hidden
//! temporary file and are renamed into place, so readers never see a partial object.
//!
//! Known limit: S3 allows both `a` and `a/b` as keys; a folder cannot be both a file and
//! a folder, so the second of such a pair is refused with `Invalid`.

use std::collections::{BTreeMap, HashMap};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::Expect;
use super::blobs::{
    Blobs, ListPage, Object, ObjectMeta, ObjectSummary, Pin, PutOptions, md5_hex,
    validate_blob_key, validate_metadata,
};
use super::error::{StoreError, StoreResult};
use super::table::Cursor;

const BACKEND: &str = "local folder";
/// The longest escaped piece of a segment kept in one file name (limit 255 bytes).
const PIECE_BYTES: usize = 200;
const META_SUFFIX: &str = "%meta";
/// Objects of at least this size always get a sidecar (their ETag is not worth hashing
/// again on every `head`).
const SIDECAR_ABOVE: usize = 256 * 1024;
const CONTINUES: &str = "%+";
const EMPTY: &str = "%_";

/// Objects in a local folder.
#[derive(Debug, Clone)]
pub struct DirBlobs {
    root: PathBuf,
    etags: Arc<EtagCache>,
}

/// How many ETags of plain objects are remembered before the cache starts afresh.
const ETAGS_KEPT: usize = 8192;

/// What identifies a file's bytes without reading them: its size, modification time
/// and inode. Every write here renames a new file into place (a new inode), so a file
/// with the same stamp has the same bytes, as git's index assumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }
}

/// The ETags of plain objects (no sidecar) as last written or hashed, so that `head`
/// and `get` of a file just written need not hash it again.
#[derive(Debug, Default)]
struct EtagCache(Mutex<HashMap<PathBuf, (Stamp, String)>>);

impl EtagCache {
    fn get(&self, path: &Path, stamp: Stamp) -> Option<String> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(path)
            .filter(|(s, _)| *s == stamp && stamp.modified.is_some())
            .map(|(_, etag)| etag.clone())
    }

    fn put(&self, path: &Path, stamp: Stamp, etag: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= ETAGS_KEPT {
            map.clear();
        }
        map.insert(path.to_path_buf(), (stamp, etag.to_owned()));
    }

    fn forget(&self, path: &Path) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(path);
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Sidecar {
    key: String,
    size: u64,
    etag: String,
    content_type: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

impl DirBlobs {
    /// Uses `root` (created if missing) as the bucket.
    pub fn open(root: impl Into<PathBuf>) -> StoreResult<Self> {
        let root = root.into();
        super::create_private_dir_all(&root)
            .map_err(|e| io_error("create the folder", &root, e))?;
        Ok(DirBlobs {
            root,
            etags: Arc::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes the temporary files (`.tmp-*`) that a process killed in the middle of a
    /// put left behind, if older than `older_than` (a live writer's are younger); says
    /// how many went. They were never visible as objects: this only frees the disk.
    pub fn remove_stale_temp_files(&self, older_than: std::time::Duration) -> usize {
        let now = std::time::SystemTime::now();
        walkdir::WalkDir::new(&self.root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_type().is_file() && e.file_name().to_string_lossy().starts_with(".tmp-")
            })
            .filter(|e| {
                e.metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|age| age >= older_than)
            })
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }

    /// The path of an object's bytes.
    pub fn path_of(&self, key: &str) -> PathBuf {
        let mut path = self.root.clone();
        for component in key_components(key) {
            path.push(component);
        }
        path
    }

    fn sidecar_path(data: &Path) -> PathBuf {
        let mut name = data.file_name().unwrap_or_default().to_os_string();
        name.push(META_SUFFIX);
        data.with_file_name(name)
    }

    fn read_meta(&self, key: &str) -> StoreResult<ObjectMeta> {
        let data = self.path_of(key);
        let file_meta = match std::fs::metadata(&data) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Err(StoreError::not_found(format!("object {key:?}"))),
            Err(e) if missing(&e) => return Err(StoreError::not_found(format!("object {key:?}"))),
            Err(e) => return Err(io_error("read", &data, e)),
        };
        // A plain object written or hashed here and unchanged since: nothing to look up.
        let stamp = Stamp::of(&file_meta);
        if let Some(etag) = self.etags.get(&data, stamp) {
            return Ok(Self::meta_with(key, file_meta.len(), etag));
        }
        match Self::sidecar(key, &data, file_meta.len()) {
            Some(meta) => Ok(meta),
            // A plain object (see `write`), one written by hand, or a crash between the
            // two renames of a put: the bytes are the truth.
            None => {
                let bytes = std::fs::read(&data).map_err(|e| io_error("read", &data, e))?;
                let meta = Self::plain_meta(key, &bytes);
                self.etags.put(&data, stamp, &meta.etag);
                Ok(meta)
            }
        }
    }

    /// What the sidecar says, if there is one for these bytes.
    fn sidecar(key: &str, data: &Path, size: u64) -> Option<ObjectMeta> {
        let raw = std::fs::read(Self::sidecar_path(data)).ok()?;
        let s = serde_json::from_slice::<Sidecar>(&raw).ok()?;
        (s.size == size && s.key == key).then_some(ObjectMeta {
            key: s.key,
            size: s.size,
            etag: s.etag,
            version: None,
            content_type: s.content_type,
            metadata: s.metadata,
        })
    }

    /// An object without a sidecar: its name implies its type, its bytes give its ETag.
    fn plain_meta(key: &str, bytes: &[u8]) -> ObjectMeta {
        Self::meta_with(key, bytes.len() as u64, md5_hex(bytes))
    }

    fn meta_with(key: &str, size: u64, etag: String) -> ObjectMeta {
        ObjectMeta {
            key: key.to_owned(),
            size,
            etag,
            version: None,
            content_type: implied_content_type(key).map(str::to_owned),
            metadata: BTreeMap::new(),
        }
    }

    fn write(&self, key: &str, body: &[u8], options: &PutOptions) -> StoreResult<ObjectMeta> {
        validate_blob_key(key)?;
        validate_metadata(options)?;
        let data = self.path_of(key);
        let dir = data.parent().unwrap_or(&self.root).to_path_buf();
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: body.len() as u64,
            etag: match &options.content_md5 {
                Some(md5) => {
                    debug_assert_eq!(*md5, md5_hex(body), "the caller's MD5 of {key:?}");
                    md5.clone()
                }
                None => md5_hex(body),
            },
            version: None,
            content_type: options.content_type.clone(),
            metadata: options.metadata.clone(),
        };
        let sidecar = Sidecar {
            key: key.to_owned(),
            size: meta.size,
            etag: meta.etag.clone(),
            content_type: meta.content_type.clone(),
            metadata: meta.metadata.clone(),
        };
        let sidecar_json = serde_json::to_vec(&sidecar)
            .map_err(|e| StoreError::backend(BACKEND, "put", false, e))?;
        // The folder is made only when the first try says it is missing: it almost
        // always exists, and asking first costs two calls per put.
        let data_tmp = match write_temp(&dir, body, options.durable) {
            Ok(tmp) => tmp,
            Err(_) => {
                create_dirs(&self.root, &dir, key)?;
                write_temp(&dir, body, options.durable)?
            }
        };
        let side_path = Self::sidecar_path(&data);
        // A sidecar that would say nothing the file name does not (content type implied by
        // the extension, no metadata) is not written for a small object: creating files is
        // the slow part of a put on most file systems (0.3 to 0.45 ms here, against 0.05
        // ms to hash 25 KB when it is read). A large object gets one all the same, so that
        // `head` need not hash it. The sidecar is rebuilt from the bytes if ever lost, so
        // it is never synced.
        let plain = options.metadata.is_empty()
            && options.content_type.as_deref() == implied_content_type(key)
            && body.len() < SIDECAR_ABOVE;
        if plain {
            let file = data_tmp
                .persist(&data)
                .map_err(|e| rename_error(key, &data, e.error))?;
            match file.metadata() {
                Ok(m) => self.etags.put(&data, Stamp::of(&m), &meta.etag),
                Err(_) => self.etags.forget(&data),
            }
            match std::fs::remove_file(&side_path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("remove", &side_path, e)),
            }
            return Ok(meta);
        }
        self.etags.forget(&data);
        let side_tmp = write_temp(&dir, &sidecar_json, false)?;
        data_tmp
            .persist(&data)
            .map_err(|e| rename_error(key, &data, e.error))?;
        side_tmp
            .persist(&side_path)
            .map_err(|e| io_error("rename into", &side_path, e.error))?;
        Ok(meta)
    }

    fn remove(&self, key: &str) -> StoreResult<()> {
        validate_blob_key(key)?;
        let data = self.path_of(key);
        self.etags.forget(&data);
        for path in [Self::sidecar_path(&data), data.clone()] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if missing(&e) => {}
                Err(e) if path.is_dir() => {
                    // A folder of other objects: not an object, so nothing to delete.
                    let _ = e;
                }
                Err(e) => return Err(io_error("delete", &path, e)),
            }
        }
        // Tidy up empty folders back to the root (best effort: another writer may
        // be filling one, and then it is simply not empty).
        let mut dir = data.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || std::fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    fn list_sync(&self, prefix: &str, after: Option<&str>, limit: usize) -> StoreResult<ListPage> {
        let limit = limit.clamp(1, 1000);
        // Start from the folder of the prefix's complete segments.
        let complete = match prefix.rfind('/') {
            Some(i) => &prefix[..=i],
            None => "",
        };
        let mut start = self.root.clone();
        if !complete.is_empty() {
            for component in key_components(&complete[..complete.len() - 1]) {
                start.push(component);
            }
        }
        let mut keys = Vec::new();
        if start.is_dir() {
            walk(&start, &self.root, &mut keys)?;
        }
        let mut matching: Vec<(String, PathBuf)> = keys
            .into_iter()
            .filter(|(k, _)| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
            .collect();
        matching.sort_by(|a, b| a.0.cmp(&b.0));
        let more = matching.len() > limit;
        matching.truncate(limit);
        let mut objects = Vec::with_capacity(matching.len());
        for (key, _) in &matching {
            match self.read_meta(key) {
                Ok(meta) => objects.push(ObjectSummary {
                    key: meta.key,
                    size: meta.size,
                    etag: meta.etag,
                }),
                // Deleted while listing: skip it, as S3's listing would.
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let next = if more {
            matching.last().map(|(k, _)| Cursor(k.clone()))
        } else {
            None
        };
        Ok(ListPage { objects, next })
    }
}

#[async_trait]
impl Blobs for DirBlobs {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    async fn health(&self) -> StoreResult<()> {
        let this = self.clone();
        blocking(Expect::Brief, move || {
            super::create_private_dir_all(&this.root)
                .map_err(|e| io_error("create the folder", &this.root, e))?;
            let probe = write_temp(&this.root, b"postroom doctor", false)?;
            drop(probe);
            Ok(())
        })
        .await
    }

    async fn get(&self, key: &str) -> StoreResult<Object> {
        validate_blob_key(key)?;
        let path = self.path_of(key);
        let not_found = move |key: &str| StoreError::not_found(format!("object {key:?}"));
        let opened = {
            let (path, key) = (path.clone(), key.to_owned());
            blocking(Expect::Brief, move || {
                let file = std::fs::File::open(&path).map_err(|e| {
                    if missing(&e) || path.is_dir() {
                        not_found(&key)
                    } else {
                        io_error("read", &path, e)
                    }
                })?;
                let file_meta = file.metadata().map_err(|e| io_error("read", &path, e))?;
                if file_meta.is_dir() {
                    return Err(not_found(&key));
                }
                Ok((file, file_meta))
            })
            .await?
        };
        let (mut file, file_meta) = opened;
        let expect = Expect::for_bytes(file_meta.len());
        let this = self.clone();
        let key = key.to_owned();
        blocking(expect, move || {
            let mut body = Vec::with_capacity(file_meta.len() as usize);
            file.read_to_end(&mut body)
                .map_err(|e| io_error("read", &path, e))?;
            // One read. A plain object written or hashed here and unchanged since has its
            // ETag remembered; otherwise the sidecar describes these bytes if it has their
            // size (a put renames the bytes in first), or the bytes are the truth.
            let stamp = Stamp::of(&file_meta);
            let size = body.len() as u64;
            let remembered = this.etags.get(&path, stamp).filter(|_| stamp.len == size);
            let meta = match remembered {
                Some(etag) => Self::meta_with(&key, size, etag),
                None => match Self::sidecar(&key, &path, size) {
                    Some(meta) => meta,
                    None => {
                        let meta = Self::plain_meta(&key, &body);
                        this.etags.put(&path, stamp, &meta.etag);
                        meta
                    }
                },
            };
            Ok(Object {
                meta,
                body: Bytes::from(body),
            })
        })
        .await
    }

    async fn put(&self, key: &str, body: Bytes, options: &PutOptions) -> StoreResult<ObjectMeta> {
        let this = self.clone();
        let key = key.to_owned();
        let options = options.clone();
        // A sync to the disk, or a large body, may take milliseconds.
        let expect = if options.durable {
            Expect::Long
        } else {
            Expect::for_bytes(body.len() as u64)
        };
        blocking(expect, move || this.write(&key, &body, &options)).await
    }

    async fn head(&self, key: &str) -> StoreResult<ObjectMeta> {
        validate_blob_key(key)?;
        let this = self.clone();
        let key = key.to_owned();
        blocking(Expect::Brief, move || this.read_meta(&key)).await
    }

    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<ListPage> {
        let this = self.clone();
        let prefix = prefix.to_owned();
        let after = cursor.map(|c| c.0.clone());
        blocking(Expect::Long, move || {
            this.list_sync(&prefix, after.as_deref(), limit)
        })
        .await
    }

    async fn get_pinned(&self, key: &str, pin: &Pin) -> StoreResult<Object> {
        // A folder keeps one state per key: the pinned one, or none.
        let object = self.get(key).await?;
        if pin.matches(&object.meta) {
            Ok(object)
        } else {
            Err(superseded(key))
        }
    }

    async fn head_pinned(&self, key: &str, pin: &Pin) -> StoreResult<ObjectMeta> {
        let meta = self.head(key).await?;
        if pin.matches(&meta) {
            Ok(meta)
        } else {
            Err(superseded(key))
        }
    }

    async fn copy(&self, from: &str, pin: Option<&Pin>, to: &str) -> StoreResult<()> {
        let source = match pin {
            Some(pin) => self.get_pinned(from, pin).await?,
            None => self.get(from).await?,
        };
        let options = PutOptions {
            content_type: source.meta.content_type.clone(),
            metadata: source.meta.metadata.clone(),
            content_md5: Some(source.meta.etag.clone()),
            ..PutOptions::default()
        };
        self.put(to, source.body, &options).await.map(|_| ())
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let this = self.clone();
        let key = key.to_owned();
        blocking(Expect::Brief, move || this.remove(&key)).await
    }

    async fn delete_pinned(&self, key: &str, pin: &Pin) -> StoreResult<()> {
        match self.head_pinned(key, pin).await {
            Ok(_) => self.delete(key).await,
            Err(StoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A folder has no upload endpoint of its own: the caller (the console) takes the
    /// same form and applies the same limits itself. Bad requests fail as on S3.
    async fn presign_post(
        &self,
        request: &super::blobs::PostRequest,
    ) -> StoreResult<Option<super::blobs::PresignedPost>> {
        request.validate()?;
        Ok(None)
    }
}

/// The key holds other bytes than the pinned ones (a folder keeps no versions).
fn superseded(key: &str) -> StoreError {
    StoreError::not_found(format!(
        "object {key:?} as pinned (it now holds other bytes)"
    ))
}

async fn blocking<T: Send + 'static>(
    expect: Expect,
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    super::local_blocking(BACKEND, "a blocking task", expect, f).await
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    let retryable = matches!(
        e.kind(),
        ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
    );
    StoreError::backend(BACKEND, format!("{what} {}", path.display()), retryable, e)
}

fn create_dirs(root: &Path, dir: &Path, key: &str) -> StoreResult<()> {
    match super::create_private_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists || e.kind() == ErrorKind::NotADirectory => {
            Err(StoreError::invalid(format!(
                "object {key:?} needs a folder where an object is stored (a limit of local storage)"
            )))
        }
        Err(e) => Err(io_error(
            "create the folder",
            if dir.starts_with(root) { dir } else { root },
            e,
        )),
    }
}

/// The error of renaming a new object's bytes into place. A folder of other objects
/// there refuses the rename (EISDIR): checking for one first would cost a call per put.
fn rename_error(key: &str, data: &Path, e: std::io::Error) -> StoreError {
    if e.kind() == ErrorKind::IsADirectory || data.is_dir() {
        StoreError::invalid(format!(
            "object {key:?} would replace a folder of other objects (a limit of local storage)"
        ))
    } else {
        io_error("rename into", data, e)
    }
}

fn write_temp(dir: &Path, bytes: &[u8], sync: bool) -> StoreResult<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| io_error("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| {
            if sync {
                tmp.as_file().sync_data()
            } else {
                Ok(())
            }
        })
        .map_err(|e| io_error("write", tmp.path(), e))?;
    Ok(tmp)
}

/// Whether an I/O error says the path is not there (or a file stands where a folder of
/// the path would be: ENOTDIR).
fn missing(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(20)
}

/// The content type a key's extension implies, for objects stored without a sidecar.
fn implied_content_type(key: &str) -> Option<&'static str> {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "txt" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "eml" => "message/rfc822",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "html" | "htm" => "text/html",
        _ => return None,
    })
}

/// The path components (relative to the root) of a key.
fn key_components(key: &str) -> Vec<String> {
    let mut components = Vec::new();
    for segment in key.split('/') {
        components.extend(encode_segment(segment));
    }
    components
}

/// Escapes one key segment into one or more file names.
fn encode_segment(segment: &str) -> Vec<String> {
    if segment.is_empty() {
        return vec![EMPTY.to_owned()];
    }
    let mut escaped = String::with_capacity(segment.len());
    for (i, c) in segment.char_indices() {
        if c == '%' || c.is_control() || (i == 0 && c == '.') {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                escaped.push_str(&format!("%{b:02X}"));
            }
        } else {
            escaped.push(c);
        }
    }
    // Cut into pieces at char boundaries, never inside a %XX escape.
    let mut pieces = Vec::new();
    let mut rest = escaped.as_str();
    while rest.len() > PIECE_BYTES {
        let mut cut = PIECE_BYTES;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(pct) = rest[..cut].rfind('%')
            && cut - pct < 3
        {
            cut = pct;
        }
        pieces.push(format!("{}{CONTINUES}", &rest[..cut]));
        rest = &rest[cut..];
    }
    pieces.push(rest.to_owned());
    pieces
}

/// Undoes `encode_segment` for one file name (without the continuation marker).
fn decode_name(name: &str) -> Option<String> {
    if name == EMPTY {
        return Some(String::new());
    }
    let bytes = percent_encoding::percent_decode_str(name).collect::<Vec<u8>>();
    String::from_utf8(bytes).ok()
}

/// Collects (key, path) of every object under `dir`.
fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) -> StoreResult<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("list", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io_error("list", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') || name.ends_with(META_SUFFIX) {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| io_error("list", &path, e))?;
        if file_type.is_dir() {
            walk(&path, root, out)?;
        } else if file_type.is_file()
            && let Some(key) = key_of(&path, root)
        {
            out.push((key, path));
        }
    }
    Ok(())
}

/// The key of a data file's path under the root.
fn key_of(path: &Path, root: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let mut key = String::new();
    let components: Vec<&str> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    for (i, component) in components.iter().enumerate() {
        if let Some(piece) = component.strip_suffix(CONTINUES) {
            key.push_str(&decode_name(piece)?);
        } else {
            key.push_str(&decode_name(component)?);
            if i + 1 < components.len() {
                key.push('/');
            }
        }
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_a_killed_write_left_are_removed_once_stale() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = DirBlobs::open(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("inbox")).unwrap();
        std::fs::write(dir.path().join("inbox/.tmp-abc123"), b"half a letter").unwrap();
        std::fs::write(dir.path().join("inbox/letter.pdf"), b"%PDF-").unwrap();
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(
            blobs.remove_stale_temp_files(hour),
            0,
            "a live write's is young"
        );
        assert_eq!(blobs.remove_stale_temp_files(std::time::Duration::ZERO), 1);
        assert!(!dir.path().join("inbox/.tmp-abc123").exists());
        assert!(dir.path().join("inbox/letter.pdf").exists());
    }

    fn round_trip(key: &str) {
        let root = Path::new("/r");
        let mut path = root.to_path_buf();
        for c in key_components(key) {
            assert!(c.len() <= 255, "component too long: {}", c.len());
            assert!(!c.starts_with('.') && !c.ends_with(META_SUFFIX) && !c.is_empty());
            path.push(c);
        }
        assert_eq!(key_of(&path, root).as_deref(), Some(key), "{key:?}");
    }

    #[test]
    fn keys_map_to_paths_and_back() {
        for key in [
            "inbox/letter.pdf",
            "inbox/a b+c%20d#e.pdf",
            "a//b",
            "trailing/",
            "/leading",
            ".hidden/..",
            "x%meta",
            "x%+",
            "é/Łukasz/Nguyễn.docx",
            "tab\there",
        ] {
            round_trip(key);
        }
        round_trip(&"k".repeat(1000));
        round_trip(&"é".repeat(500));
        round_trip(&"%".repeat(340));
        round_trip(&format!("{}/x", "ab%".repeat(300)));
    }

    #[tokio::test]
    async fn small_plain_objects_have_no_sidecar_and_large_ones_do() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = DirBlobs::open(dir.path()).expect("open");
        let pdf = PutOptions::content_type("application/pdf");
        let small = Bytes::from(vec![b'a'; 1000]);
        let large = Bytes::from(vec![b'b'; SIDECAR_ABOVE]);
        for (key, body) in [("inbox/small.pdf", &small), ("inbox/large.pdf", &large)] {
            let put = blobs.put(key, body.clone(), &pdf).await.expect("put");
            assert_eq!(put.etag, md5_hex(body));
            let head = blobs.head(key).await.expect("head");
            let got = blobs.get(key).await.expect("get");
            assert_eq!(head, put, "{key}");
            assert_eq!(got.meta, put, "{key}");
            assert_eq!(&got.body, body);
        }
        let sidecar = |key: &str| DirBlobs::sidecar_path(&blobs.path_of(key)).exists();
        assert!(!sidecar("inbox/small.pdf"), "nothing the name does not say");
        assert!(
            sidecar("inbox/large.pdf"),
            "head need not hash a large object"
        );
    }

    #[tokio::test]
    async fn a_file_changed_by_hand_is_hashed_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = DirBlobs::open(dir.path()).expect("open");
        let key = "inbox/letter.pdf";
        let pdf = PutOptions::content_type("application/pdf");
        blobs
            .put(key, Bytes::from_static(b"first"), &pdf)
            .await
            .expect("put");
        let path = blobs.path_of(key);
        // Replaced as editors save (a new file renamed over it), with the same length.
        let tmp = dir.path().join("saved");
        std::fs::write(&tmp, b"final").expect("write");
        std::fs::rename(&tmp, &path).expect("rename");
        assert_eq!(blobs.head(key).await.expect("head").etag, md5_hex(b"final"));
        assert_eq!(
            blobs.get(key).await.expect("get").meta.etag,
            md5_hex(b"final")
        );
        // Rewritten in place with other bytes of another length.
        std::fs::write(&path, b"rewritten").expect("write");
        assert_eq!(
            blobs.head(key).await.expect("head").etag,
            md5_hex(b"rewritten")
        );
        // Deleted and put again: no ETag survives the delete.
        blobs.delete(key).await.expect("delete");
        let again = blobs
            .put(key, Bytes::from_static(b"again"), &pdf)
            .await
            .expect("put");
        assert_eq!(again.etag, md5_hex(b"again"));
        assert_eq!(blobs.head(key).await.expect("head").etag, again.etag);
    }

    /// On a multi-threaded runtime, where small calls run in place and large ones hand
    /// the worker over: folders are made on the first put below them, and an object and
    /// a folder of objects cannot share a name either way round.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn folders_are_made_as_needed_and_never_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = DirBlobs::open(dir.path()).expect("open");
        let plain = PutOptions::default();
        let body = Bytes::from_static(b"deep");
        blobs
            .put("new/deep/x", body.clone(), &plain)
            .await
            .expect("put");
        assert_eq!(blobs.get("new/deep/x").await.expect("get").body, body);

        let over_folder = blobs.put("new/deep", body.clone(), &plain).await;
        assert!(
            matches!(&over_folder, Err(StoreError::Invalid { what }) if what.contains("replace a folder")),
            "{over_folder:?}"
        );
        assert!(matches!(
            blobs.get("new/deep").await,
            Err(StoreError::NotFound { .. })
        ));
        let under_object = blobs.put("new/deep/x/y", body.clone(), &plain).await;
        assert!(
            matches!(&under_object, Err(StoreError::Invalid { what }) if what.contains("needs a folder")),
            "{under_object:?}"
        );
        assert_eq!(blobs.get("new/deep/x").await.expect("get").body, body);

        // Over the brief size, and synced: the calls that hand the worker over.
        let large = Bytes::from(vec![b'z'; 2 * crate::BRIEF_BYTES as usize]);
        let put = blobs
            .put("big/one.bin", large.clone(), &plain)
            .await
            .expect("put");
        let got = blobs.get("big/one.bin").await.expect("get");
        assert_eq!(got.meta, put);
        assert_eq!(got.body, large);
    }
}
