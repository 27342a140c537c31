//! Box's upload host: the pre-check, simple uploads and new versions (multipart), and upload sessions (parts
//! with their SHA-1, commit with the whole file's). A name already in the folder answers 409 with the file in
//! `context_info.conflicts`; content that does not match its `content-md5` or `digest` answers 400 `bad_digest`.
//! An uploaded file's tags are read from its content, a Word document (`box-docgen-template`).

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};

use crate::answer::{Answer, Call, parse};
use crate::file::sha1_hex;
use crate::session::Session;
use crate::state::State;

impl State {
    /// The file of that name in the folder, compared without case as Box does.
    fn named(&self, folder_id: &str, name: &str) -> Option<String> {
        self.files
            .iter()
            .find(|(_, file)| file.parent == folder_id && file.name.eq_ignore_ascii_case(name))
            .map(|(id, _)| id.clone())
    }

    fn conflict(&self, file_id: &str) -> Answer {
        let mut answer = Answer::error(409, "item_name_in_use", "Item with the same name already exists");
        let sha1 = self.files.get(file_id).map(|file| sha1_hex(&file.content)).unwrap_or_default();
        if let Some(body) = answer.body.as_mut() {
            body["context_info"] = json!({ "conflicts": { "id": file_id, "type": "file", "sha1": sha1 } });
        }
        answer
    }

    /// `OPTIONS /files/content`.
    pub(crate) fn precheck(&mut self, body: &[u8]) -> Result<Answer, Answer> {
        let request: Value = parse(body)?;
        let folder_id = request["parent"]["id"].as_str().unwrap_or("0");
        let name = request["name"].as_str().unwrap_or_default();
        if let Some(file_id) = self.named(folder_id, name) {
            return Err(self.conflict(&file_id));
        }
        Ok(Answer::json(
            200,
            json!({ "upload_url": "https://upload.box.com/api/2.0/files/content", "upload_token": "t" }),
        ))
    }

    /// `POST /files/content` (a new file), `POST /files/{id}/content` (a new version of `file_id`).
    pub(crate) fn upload(&mut self, file_id: Option<&str>, call: &Call<'_>) -> Result<Answer, Answer> {
        let content_type = call.headers.get("content-type").and_then(|value| value.to_str().ok());
        let body = Bytes::copy_from_slice(call.body);
        let parts = crate::multipart::parts(content_type, &body).map_err(|why| bad_request(&why))?;
        let (attributes, file) = match parts.as_slice() {
            [attributes, file] if attributes.name == "attributes" && file.name == "file" => (attributes, file),
            _ => return Err(Answer::error(400, "metadata_after_file_contents", "attributes, then file")),
        };
        let attributes: Value = parse(&attributes.content)?;
        let content = if call.corrupt { damaged(&file.content) } else { file.content.clone() };
        if let Some(md5) = call.headers.get("content-md5").and_then(|value| value.to_str().ok())
            && !md5.eq_ignore_ascii_case(&sha1_hex(&content))
        {
            return Err(bad_digest());
        }
        let name = attributes["name"].as_str().unwrap_or_default().to_owned();
        let (id, folder_id) = match file_id {
            Some(id) => {
                let existing = self.files.get(id).ok_or_else(|| Answer::not_found("The file"))?;
                (id.to_owned(), existing.parent.clone())
            }
            None => {
                let folder_id = attributes["parent"]["id"].as_str().unwrap_or("0").to_owned();
                if let Some(taken) = self.named(&folder_id, &name) {
                    return Err(self.conflict(&taken));
                }
                (self.new_id(), folder_id)
            }
        };
        let status = if file_id.is_some() { 200 } else { 201 };
        Ok(self.store(&id, &name, &folder_id, content, status))
    }

    /// Stores a file or a new version, with the tags its content holds; Box's answer (`Files`).
    fn store(&mut self, id: &str, name: &str, folder_id: &str, content: Bytes, status: u16) -> Answer {
        self.insert_file(id, name, content, None);
        if let Some(file) = self.files.get_mut(id) {
            file.parent = folder_id.to_owned();
        }
        let fields = HashMap::new();
        let file = self.file(id, &fields).ok().and_then(|answer| answer.body).unwrap_or_default();
        Answer::json(status, json!({ "total_count": 1, "entries": [file] }))
    }

    /// `POST /files/upload_sessions`, `POST /files/{id}/upload_sessions`.
    pub(crate) fn open_session(&mut self, call: &Call<'_>) -> Result<Answer, Answer> {
        let request: Value = parse(call.body)?;
        let size = request["file_size"].as_u64().ok_or_else(|| bad_request("file_size"))?;
        let (folder_id, file_id, name) = match call.path_parameters.first() {
            Some(file_id) => {
                let file = self.files.get(file_id).ok_or_else(|| Answer::not_found("The file"))?;
                let name = request["file_name"].as_str().unwrap_or(&file.name).to_owned();
                (file.parent.clone(), Some(file_id.clone()), name)
            }
            None => {
                let folder_id = request["folder_id"].as_str().unwrap_or("0").to_owned();
                let name = request["file_name"].as_str().unwrap_or_default().to_owned();
                if let Some(taken) = self.named(&folder_id, &name) {
                    return Err(self.conflict(&taken));
                }
                (folder_id, None, name)
            }
        };
        let id = format!("S{}", self.new_id());
        let part_size = self.upload_part_size;
        let total_parts = size.div_ceil(part_size);
        self.sessions.insert(id.clone(), Session { folder_id, file_id, name, size, parts: BTreeMap::new() });
        Ok(Answer::json(
            201,
            json!({ "id": id, "type": "upload_session", "part_size": part_size, "total_parts": total_parts,
                    "num_parts_processed": 0, "session_expires_at": "2026-12-09T00:00:00Z" }),
        ))
    }

    /// `PUT /files/upload_sessions/{id}`: a part at the range its `content-range` names, checked against its
    /// `digest`. The same part sent again is stored once.
    pub(crate) fn store_part(&mut self, session_id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
        let header = |name: &str| call.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default();
        let part_size = self.upload_part_size;
        let session = self.sessions.get_mut(session_id).ok_or_else(|| Answer::not_found("The upload session"))?;
        let (first, last, total) =
            content_range(header("content-range")).ok_or_else(|| bad_request("content-range"))?;
        let fits = total == session.size
            && first % part_size == 0
            && last + 1 == (first + part_size).min(session.size)
            && (last - first + 1) as usize == call.body.len();
        if !fits {
            return Err(Answer::error(416, "range_not_satisfiable", "the range is not a part of this session"));
        }
        let bytes = Bytes::copy_from_slice(call.body);
        let bytes = if call.corrupt { damaged(&bytes) } else { bytes };
        if header("digest") != sha_digest(&bytes) {
            return Err(bad_digest());
        }
        let part_id = format!("{:08X}", first / part_size);
        let part = part_json(&part_id, first, &bytes);
        session.parts.insert(first, (part_id, bytes));
        Ok(Answer::json(200, json!({ "part": part })))
    }

    /// `POST /files/upload_sessions/{id}/commit`: the parts listed must be every part stored, in order, and
    /// the file they make must match the `digest`.
    pub(crate) fn commit(&mut self, session_id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
        let request: Value = parse(call.body)?;
        let session = self.sessions.get(session_id).ok_or_else(|| Answer::not_found("The upload session"))?;
        let listed: Vec<(Option<&str>, Option<u64>)> = request["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|part| (part["part_id"].as_str(), part["offset"].as_u64()))
            .collect();
        let stored: Vec<(Option<&str>, Option<u64>)> =
            session.parts.iter().map(|(offset, (id, _))| (Some(id.as_str()), Some(*offset))).collect();
        let mut content = BytesMut::new();
        session.parts.values().for_each(|(_, bytes)| content.extend_from_slice(bytes));
        if listed != stored || content.len() as u64 != session.size {
            return Err(bad_request("the parts listed are not the parts of the file"));
        }
        let digest = call.headers.get("digest").and_then(|value| value.to_str().ok()).unwrap_or_default();
        if digest != sha_digest(&content) {
            return Err(bad_digest());
        }
        let Some(session) = self.sessions.remove(session_id) else { return Err(Answer::not_found("The session")) };
        let id = match &session.file_id {
            Some(id) => id.clone(),
            None => self.new_id(),
        };
        Ok(self.store(&id, &session.name, &session.folder_id, content.freeze(), 201))
    }
}

/// Box's `digest` header for `bytes`: `sha=` and their base64 SHA-1.
fn sha_digest(bytes: &[u8]) -> String {
    format!("sha={}", STANDARD.encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes)))
}

/// `bytes` with the first one changed.
fn damaged(bytes: &Bytes) -> Bytes {
    let mut damaged = bytes.to_vec();
    if let Some(first) = damaged.first_mut() {
        *first ^= 0xff;
    }
    Bytes::from(damaged)
}

fn part_json(id: &str, offset: u64, bytes: &[u8]) -> Value {
    json!({ "part_id": id, "offset": offset, "size": bytes.len(), "sha1": sha1_hex(bytes) })
}

/// `bytes <first>-<last>/<total>`.
fn content_range(header: &str) -> Option<(u64, u64, u64)> {
    let (range, total) = header.strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let (first, last, total) = (first.parse().ok()?, last.parse().ok()?, total.parse().ok()?);
    (first <= last).then_some((first, last, total))
}

fn bad_request(what: &str) -> Answer {
    Answer::error(400, "bad_request", what)
}

/// Box's answer to content that does not match the SHA-1 sent with it.
fn bad_digest() -> Answer {
    Answer::error(400, "bad_digest", "The specified content-md5 did not match what we received")
}
