//! The answer to each operation of Box's API the stand-in plays (Doc Gen, files, webhooks).

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::answer::{Answer, Call, parse};
use crate::file::{File, read_template, sha1_hex};
use crate::job::Job;
use crate::record::Request;
use crate::state::State;
use crate::tags::Tag;

/// Box's largest page, and the size of a page when none is asked for.
const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

impl State {
    /// Logs a request.
    pub(crate) fn record(&mut self, request: Request) {
        self.requests.push(request);
        self.seen.send_replace(self.requests.len());
    }

    /// Box's 429 when a rate limit set by the test has no room for this request (a request counts against
    /// the request limit; a batch `POST`'s documents against the document limit as well).
    pub(crate) fn over_limit(&mut self, operation: &str, body: &[u8]) -> Option<Answer> {
        let documents = match operation {
            "post_docgen_batches_v2025.0" => serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|body| body["document_generation_data"].as_array().map(Vec::len))
                .unwrap_or(0),
            _ => 0,
        };
        let refused = self.request_limit.as_mut().and_then(|limit| limit.admit(1.0));
        let retry_after = match (refused, &mut self.document_limit) {
            (Some(after), _) => after,
            (None, Some(limit)) if documents > 0 => limit.admit(documents as f64)?,
            (None, _) => return None,
        };
        let mut answer = Answer::error(429, "rate_limit_exceeded", "Request rate limit exceeded");
        answer.headers.push(("retry-after", retry_after.to_string()));
        Some(answer)
    }

    /// Adds a Word document with a paragraph for each of these tags, and these tags as its listing.
    pub(crate) fn add_file(&mut self, file_id: &str, name: &str, tags: Vec<Tag>) {
        let writer =
            tags.iter().fold(box_docgen_template::DocxWriter::new(), |writer, tag| writer.paragraph(&tag.content));
        self.insert_file(file_id, name, Bytes::from(writer.finish()), Some(tags));
    }

    /// Adds (or replaces) a file with its bytes and a new version; its tags are read from the content (as a Word
    /// template) unless given.
    pub(crate) fn insert_file(&mut self, file_id: &str, name: &str, content: Bytes, given: Option<Vec<Tag>>) {
        let version_id = self.new_id();
        let created_at = self.now();
        let (template, read) = read_template(&content);
        let given_tags = given.is_some();
        let tags = given.unwrap_or(read);
        let file = File {
            name: name.to_owned(),
            parent: "0".into(),
            created_at,
            content,
            version_id,
            tags,
            template,
            given_tags,
            tags_read: false,
        };
        self.files.insert(file_id.to_owned(), file);
    }

    /// The bytes of a file, for the download host.
    pub(crate) fn content(&self, file_id: &str) -> Option<Bytes> {
        self.files.get(file_id).map(|file| file.content.clone())
    }

    pub(crate) fn mark_template(&mut self, file_id: &str) {
        if !self.templates.iter().any(|id| id == file_id) {
            self.templates.push(file_id.to_owned());
        }
    }

    /// A job that is already final (completed, with an output file), in a batch of its own.
    pub(crate) fn add_finished_job(&mut self, job_id: &str, template_file_id: &str, generated_file_name: &str) {
        let batch_id = self.new_id();
        let job = Job {
            id: job_id.to_owned(),
            batch_id: batch_id.clone(),
            template_file_id: template_file_id.to_owned(),
            template_version_id: format!("{template_file_id}1"),
            output_type: "pdf".to_owned(),
            failure: None,
            reads: self.polls_to_finish,
            output_file_id: self.new_id(),
            output_version_id: self.new_id(),
            generated_file_name: generated_file_name.to_owned(),
            created: tokio::time::Instant::now(),
        };
        let content = Bytes::from(crate::pdf::document(&[generated_file_name.to_owned()]));
        let output_file_id = job.output_file_id.clone();
        self.batches.insert(batch_id, vec![self.jobs.len()]);
        self.jobs.push(job);
        self.insert_output(&output_file_id, generated_file_name, "0", content);
    }

    /// Queues the webhook deliveries of the latest job: started, then succeeded or failed.
    fn announce(&mut self, template_name: &str, folder_id: &str, output_file_id: &str) {
        let Some(job) = self.jobs.last() else { return };
        let details = crate::webhook::Details {
            template_id: job.template_file_id.clone(),
            template_name: template_name.to_owned(),
            template_version_id: job.template_version_id.clone(),
            folder_id: folder_id.to_owned(),
            output_type: job.output_type.clone(),
        };
        let outcome = match &job.failure {
            Some(reason) => ("DOCGEN_DOCUMENT_GENERATION_FAILED", None, Some(reason.clone())),
            None => ("DOCGEN_DOCUMENT_GENERATION_SUCCEEDED", Some(output_file_id), None),
        };
        for (trigger, generated, reason) in [("DOCGEN_DOCUMENT_GENERATION_STARTED", None, None), outcome] {
            for (webhook_id, address) in self.subscribers(trigger, &details.template_id, folder_id) {
                let body = details.event(trigger, &webhook_id, generated, reason.as_deref());
                self.outbox.push(crate::webhook::Delivery { address, trigger, body });
            }
        }
    }

    /// The time now as Box writes it, less the backdating a test asked for.
    pub(crate) fn now(&self) -> String {
        crate::webhook::at(std::time::SystemTime::now() - self.backdate)
    }

    /// Every batch's id, in the order accepted (ids grow).
    pub(crate) fn batch_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.batches.keys().cloned().collect();
        ids.sort_by_key(|id| id.parse::<u64>().unwrap_or(u64::MAX));
        ids
    }

    /// The file names a batch's documents asked for, in order.
    pub(crate) fn batch_documents(&self, batch_id: &str) -> Option<Vec<String>> {
        let jobs = self.batches.get(batch_id)?;
        Some(jobs.iter().map(|index| self.jobs[*index].generated_file_name.clone()).collect())
    }

    /// A generated document: its file (named as the naming says), whose version id is the one its job reports.
    fn insert_output(&mut self, file_id: &str, asked: &str, folder: &str, content: Bytes) {
        let Some(job) = self.jobs.iter().find(|job| job.output_file_id == file_id) else { return };
        let version_id = job.output_version_id.clone();
        let taken = |name: &str| self.files.values().any(|file| file.parent == folder && file.name == name);
        let name = self.naming.name(asked, &job.output_type, &job.id, taken);
        let file = File {
            name,
            parent: folder.to_owned(),
            created_at: self.now(),
            content,
            version_id,
            tags: Vec::new(),
            template: Err("a generated document".to_owned()),
            given_tags: false,
            tags_read: false,
        };
        self.files.insert(file_id.to_owned(), file);
    }

    pub(crate) fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Answers one operation. Operations the stand-in does not serve answer 501.
    pub(crate) fn answer(&mut self, call: &Call<'_>) -> Answer {
        let id = call.path_parameters.first().map(String::as_str).unwrap_or_default();
        if !call.operation.starts_with("get_") && !call.operation.starts_with("options_") {
            self.dirty = true;
        }
        let result = match call.operation {
            "post_docgen_templates_v2025.0" => self.create_template(call.body),
            "get_docgen_templates_v2025.0" => {
                let templates: Vec<Value> = self.templates.iter().map(|id| self.template(id)).collect();
                page(templates, &call.query)
            }
            "get_docgen_templates_id_v2025.0" => self.known_template(id).map(|()| Answer::json(200, self.template(id))),
            "delete_docgen_templates_id_v2025.0" => self.known_template(id).map(|()| {
                self.templates.retain(|template| template != id);
                Answer { status: 204, headers: Vec::new(), body: None }
            }),
            "get_docgen_templates_id_tags_v2025.0" => self.tags(id, &call.query),
            "get_docgen_jobs_id_v2025.0" => match self.jobs.iter().position(|job| job.id == id) {
                Some(index) => Ok(Answer::json(200, self.read_job(index, false))),
                None => Err(Answer::not_found("The job")),
            },
            "get_docgen_jobs_v2025.0" => {
                let all: Vec<usize> = (0..self.jobs.len()).collect();
                self.job_page(&all, &call.query, true)
            }
            "get_docgen_batch_jobs_id_v2025.0" => match self.batches.get(id).cloned() {
                Some(jobs) => self.job_page(&jobs, &call.query, false),
                None => Err(Answer::not_found("The batch")),
            },
            "get_docgen_template_jobs_id_v2025.0" => self.known_template(id).and_then(|()| {
                // A batch younger than the listing lag is not listed yet.
                let listed = tokio::time::Instant::now().checked_sub(self.listing_lag);
                let jobs: Vec<usize> = (0..self.jobs.len())
                    .filter(|index| self.jobs[*index].template_file_id == id)
                    .filter(|index| listed.is_none_or(|listed| self.jobs[*index].created <= listed))
                    .collect();
                self.job_page(&jobs, &call.query, false)
            }),
            "post_docgen_batches_v2025.0" => self.create_batch(call.body),
            "get_files_id" => self.file(id, &call.query),
            "post_webhooks" => self.create_webhook(call.body),
            "get_webhooks" => {
                let minis: Vec<Value> = self
                    .webhooks
                    .iter()
                    .map(|webhook| json!({ "id": webhook["id"], "type": "webhook", "target": webhook["target"] }))
                    .collect();
                page(minis, &call.query)
            }
            "get_webhooks_id" => self.webhook(id).map(|webhook| Answer::json(200, webhook.clone())),
            "put_webhooks_id" => self.update_webhook(id, call.body),
            "delete_webhooks_id" => self.webhook(id).map(|_| ()).map(|()| {
                self.webhooks.retain(|webhook| webhook["id"] != id);
                Answer { status: 204, headers: Vec::new(), body: None }
            }),
            "get_files_id_content" => match self.files.get(id) {
                Some(file) if call.query.get("version").is_none_or(|version| *version == file.version_id) => {
                    let location = format!("{}/d/{id}", self.download_base);
                    Ok(Answer { status: 302, headers: vec![("location", location)], body: None })
                }
                Some(_) => Err(Answer::not_found("The file version")),
                None => Err(Answer::not_found("The file")),
            },
            "options_files_content" => self.precheck(call.body),
            "post_files_content" => self.upload(None, call),
            "post_files_id_content" => self.upload(Some(id), call),
            "post_files_upload_sessions" | "post_files_id_upload_sessions" => self.open_session(call),
            "put_files_upload_sessions_id" => self.store_part(id, call),
            "post_files_upload_sessions_id_commit" => self.commit(id, call),
            other => Err(Answer::error(501, "not_implemented", &format!("the stand-in does not serve {other}"))),
        };
        result.unwrap_or_else(|error| error)
    }

    /// A file as `GET /files/{id}` shows it: `id`, `type`, `etag`, and the asked `fields` (all without).
    pub(crate) fn file(&self, id: &str, query: &HashMap<String, String>) -> Result<Answer, Answer> {
        let file = self.files.get(id).ok_or_else(|| Answer::not_found("The file"))?;
        let mut sha1 = sha1_hex(&file.content);
        if self.misreported.contains(id) {
            sha1 = sha1.chars().rev().collect();
        }
        let known = json!({
            "name": file.name,
            "parent": { "id": file.parent, "type": "folder" },
            "created_at": file.created_at,
            "size": file.content.len(),
            "sha1": sha1,
            "file_version": { "id": file.version_id, "type": "file_version", "sha1": sha1 },
        });
        let mut answer = json!({ "id": id, "type": "file", "etag": "1" });
        let wanted: Option<Vec<&str>> = query.get("fields").map(|fields| fields.split(',').collect());
        for (field, value) in known.as_object().into_iter().flatten() {
            if wanted.as_ref().is_none_or(|wanted| wanted.contains(&field.as_str())) {
                answer[field] = value.clone();
            }
        }
        Ok(Answer::json(200, answer))
    }

    fn webhook(&self, id: &str) -> Result<&Value, Answer> {
        self.webhooks.iter().find(|webhook| webhook["id"] == id).ok_or_else(|| Answer::not_found("The webhook"))
    }

    fn create_webhook(&mut self, body: &[u8]) -> Result<Answer, Answer> {
        let request: Value = parse(body)?;
        let id = self.new_id();
        let webhook = json!({
            "id": id,
            "type": "webhook",
            "target": request["target"],
            "created_by": { "id": "11446498", "type": "user" },
            "created_at": crate::webhook::now(),
            "address": request["address"],
            "triggers": request["triggers"],
        });
        self.webhooks.push(webhook.clone());
        Ok(Answer::json(201, webhook))
    }

    fn update_webhook(&mut self, id: &str, body: &[u8]) -> Result<Answer, Answer> {
        let request: Value = parse(body)?;
        let webhook = self
            .webhooks
            .iter_mut()
            .find(|webhook| webhook["id"] == id)
            .ok_or_else(|| Answer::not_found("The webhook"))?;
        for field in ["target", "address", "triggers"] {
            if let Some(value) = request.get(field) {
                webhook[field] = value.clone();
            }
        }
        Ok(Answer::json(200, webhook.clone()))
    }

    /// The webhooks (id, address) that want `trigger` for this template file or destination folder.
    fn subscribers(&self, trigger: &str, template: &str, folder: &str) -> Vec<(String, String)> {
        self.webhooks
            .iter()
            .filter(|webhook| {
                let target = (webhook["target"]["type"].as_str(), webhook["target"]["id"].as_str());
                let wants =
                    webhook["triggers"].as_array().is_some_and(|triggers| triggers.iter().any(|t| t == trigger));
                wants && (target == (Some("file"), Some(template)) || target == (Some("folder"), Some(folder)))
            })
            .map(|webhook| {
                let text = |field: &str| webhook[field].as_str().unwrap_or_default().to_owned();
                (text("id"), text("address"))
            })
            .collect()
    }

    fn known_template(&self, id: &str) -> Result<(), Answer> {
        if self.templates.iter().any(|template| template == id) {
            Ok(())
        } else {
            Err(Answer::not_found("The template"))
        }
    }

    fn template(&self, id: &str) -> Value {
        json!({ "file": { "id": id, "type": "file" }, "file_name": self.files.get(id).map(|file| file.name.as_str()) })
    }

    fn create_template(&mut self, body: &[u8]) -> Result<Answer, Answer> {
        // Read as JSON, as the fragment describes it (its shape was checked against the fragment before).
        let request: Value = parse(body)?;
        let id = text(&request, "/file/id");
        let file = self.files.get(&id).ok_or_else(|| Answer::not_found("The file"))?;
        // Box Doc Gen templates are Word documents. What Box answers for another file, or for a document with
        // malformed tags, is not documented: the stand-in refuses both with 400, saying why.
        if !file.name.to_ascii_lowercase().ends_with(".docx") {
            let message = format!("Box Doc Gen templates are Word documents (.docx); {:?} is not one", file.name);
            return Err(Answer::error(400, "bad_request", &message));
        }
        if let (Err(why), false) = (&file.template, file.given_tags) {
            return Err(Answer::error(400, "bad_request", &format!("{:?} cannot be a template: {why}", file.name)));
        }
        self.mark_template(&id);
        Ok(Answer::json(201, json!({ "file": { "id": id, "type": "file" } })))
    }

    fn tags(&mut self, id: &str, query: &HashMap<String, String>) -> Result<Answer, Answer> {
        self.known_template(id)?;
        let Some(file) = self.files.get_mut(id) else { return Err(Answer::not_found("The file")) };
        if !std::mem::replace(&mut file.tags_read, true) {
            self.dirty = true;
            return Ok(Answer::json(202, json!({ "message": "Processing tags for this file." })));
        }
        let tags = file.tags.iter().map(Tag::json).collect();
        page(tags, query)
    }

    fn create_batch(&mut self, body: &[u8]) -> Result<Answer, Answer> {
        let request: Value = parse(body)?;
        let template_id = text(&request, "/file/id");
        self.known_template(&template_id)?;
        let documents = request["document_generation_data"].as_array().cloned().unwrap_or_default();
        if documents.is_empty() {
            return Err(Answer::error(400, "bad_request", "document_generation_data must not be empty"));
        }
        let tags = self.files.get(&template_id).map(|file| file.tags.clone()).unwrap_or_default();
        let template_name = self.files.get(&template_id).map(|file| file.name.clone()).unwrap_or_default();
        let template = self.files.get(&template_id).and_then(|file| file.template.as_ref().ok().cloned());
        let folder_id = text(&request, "/destination_folder/id");
        let output_type = text(&request, "/output_type");
        let template_version_id = match request.pointer("/file_version/id").and_then(Value::as_str) {
            Some(version) => version.to_owned(),
            None => format!("{template_id}1"),
        };
        let batch_id = self.new_id();
        let mut jobs = Vec::new();
        for document in documents {
            let generated_file_name = text(&document, "/generated_file_name");
            let user_input = document["user_input"].as_object().cloned().unwrap_or_default();
            let data = Value::Object(user_input.clone());
            let missing = crate::tags::missing(&tags, &data);
            let job = Job {
                id: self.new_id(),
                batch_id: batch_id.clone(),
                template_file_id: template_id.clone(),
                template_version_id: template_version_id.clone(),
                output_type: output_type.clone(),
                failure: missing.first().map(|tag| {
                    let name = tag.content.trim_start_matches("{{").trim_end_matches("}}");
                    format!("The tag '{name}' was not provided in the input data.")
                }),
                reads: 0,
                output_file_id: self.new_id(),
                output_version_id: self.new_id(),
                generated_file_name: generated_file_name.clone(),
                created: tokio::time::Instant::now(),
            };
            let lines = match &template {
                Some(template) => crate::render::render(template, &data),
                // Tags a test gave without a document to fill: the data, and the tags printed raw.
                None => {
                    let mut lines = vec![generated_file_name.clone()];
                    lines.extend(user_input.iter().map(|(key, value)| format!("{key}: {value}")));
                    lines.extend(missing.iter().map(|tag| tag.content.clone()));
                    lines
                }
            };
            let content = match output_type.as_str() {
                "docx" => {
                    lines.iter().fold(box_docgen_template::DocxWriter::new(), |w, line| w.paragraph(line)).finish()
                }
                _ => crate::pdf::document(&lines),
            };
            let output_file_id = job.output_file_id.clone();
            jobs.push(self.jobs.len());
            self.jobs.push(job);
            self.insert_output(&output_file_id, &generated_file_name, &folder_id, Bytes::from(content));
            self.announce(&template_name, &folder_id, &output_file_id);
        }
        self.batches.insert(batch_id.clone(), jobs);
        Ok(Answer::json(202, json!({ "id": batch_id, "type": "docgen_batch" })))
    }

    fn job_page(&mut self, jobs: &[usize], query: &HashMap<String, String>, full: bool) -> Result<Answer, Answer> {
        let (start, end, next) = window(jobs.len(), query)?;
        let entries: Vec<Value> = jobs[start..end].iter().map(|index| self.read_job(*index, full)).collect();
        Ok(page_of(entries, end - start, next))
    }

    /// A job as Box shows it, after one more read.
    fn read_job(&mut self, index: usize, full: bool) -> Value {
        let polls_to_finish = self.polls_to_finish;
        let job = &mut self.jobs[index];
        let reads = job.reads;
        job.reads += 1;
        // A job's status changes on its first reads only.
        self.dirty |= reads <= polls_to_finish;
        let done = reads >= polls_to_finish;
        let status = match (&job.failure, done) {
            (_, false) if reads == 0 => "submitted",
            (_, false) => "pending",
            (Some(_), true) => "failed",
            (None, true) => "completed",
        };
        let completed = status == "completed";
        let mut value = json!({
            "id": job.id,
            "type": "docgen_job",
            "batch": { "id": job.batch_id, "type": "docgen_batch" },
            "template_file": { "id": job.template_file_id, "type": "file" },
            "template_file_version": { "id": job.template_version_id, "type": "file_version" },
            "status": status,
            "output_type": job.output_type,
            "output_file": if completed { json!({ "id": job.output_file_id, "type": "file" }) } else { Value::Null },
            "output_file_version": if completed {
                json!({ "id": job.output_version_id, "type": "file_version" })
            } else {
                Value::Null
            },
            "failures": match (&job.failure, done) {
                (Some(reason), true) => json!({ "errors": [reason], "warnings": [] }),
                _ => Value::Null,
            },
        });
        if full {
            value["created_at"] = json!("2026-01-01T00:00:00Z");
            value["created_by"] = json!({ "id": "11446498", "type": "user" });
            value["enterprise"] = json!({ "id": "1910967", "type": "enterprise" });
            value["source"] = json!("api");
        }
        value
    }
}

/// A JSON request body of type `T`, or Box's 400.
/// The text at `pointer` in a request body (empty when absent: the contract check refused bodies without it).
fn text(value: &Value, pointer: &str) -> String {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The window `[start, end)` of `len` items that a `marker` (an offset, as the stand-in hands them out) and
/// `limit` select, and the next marker.
fn window(len: usize, query: &HashMap<String, String>) -> Result<(usize, usize, Option<String>), Answer> {
    let limit = match query.get("limit") {
        Some(limit) => limit.parse::<usize>().ok().filter(|limit| (1..=MAX_LIMIT).contains(limit)),
        None => Some(DEFAULT_LIMIT),
    }
    .ok_or_else(|| Answer::error(400, "bad_request", "limit must be between 1 and 1000"))?;
    let start = match query.get("marker") {
        Some(marker) => marker.parse::<usize>().ok().filter(|start| *start <= len),
        None => Some(0),
    }
    .ok_or_else(|| Answer::error(400, "bad_request", "invalid marker"))?;
    let end = (start + limit).min(len);
    Ok((start, end, (end < len).then(|| end.to_string())))
}

fn page(items: Vec<Value>, query: &HashMap<String, String>) -> Result<Answer, Answer> {
    let (start, end, next) = window(items.len(), query)?;
    let entries: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let count = entries.len();
    Ok(page_of(entries, count, next))
}

fn page_of(entries: Vec<Value>, limit: usize, next_marker: Option<String>) -> Answer {
    Answer::json(200, json!({ "limit": limit, "next_marker": next_marker, "prev_marker": null, "entries": entries }))
}
