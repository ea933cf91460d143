//! Call recordings and transcripts: listing them for a round and writing them.
use super::*;

impl Store {
    /// Artifacts of organizer `org` created at or after `start`, that appeared in (`from`, `to`].
    pub fn artifact_list(
        &self,
        org: Option<u64>,
        start: Option<DateTime<Utc>>,
        from: Option<u64>,
        to: u64,
    ) -> Vec<usize> {
        let Some(org) = org else { return Vec::new() };
        self.artifacts
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.organizer == org
                    && a.pos <= to
                    && from.is_none_or(|f| a.pos > f)
                    && start.is_none_or(|s| a.created >= s)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn artifact_ids(&self, i: usize) -> (String, String, String, String) {
        let a = &self.artifacts[i];
        let org = self.id_of(Coll::Users, a.organizer);
        let meeting_guid = guid_from(h3(self.seed, 0x3E, a.r), h3(self.seed, 0x3F, a.r));
        let meeting_thread = STANDARD.encode(meeting_guid.as_bytes());
        let meeting_id =
            STANDARD.encode(format!("1*{org}*0**19:meeting_{meeting_thread}@thread.v2"));
        let rec_guid = guid_from(h3(self.seed, 0x4E, a.r), h3(self.seed, 0x4F, a.r));
        let rec_id = STANDARD.encode(format!(
            "V2##1{org}{}040000008200E00074C5B7101A82E008{}00000000000000001000000{}##{rec_guid}",
            self.tenant_id,
            &hex32(a.r, h3(self.seed, 0x50, a.r))[..24],
            hex32(h3(self.seed, 0x51, a.r), h3(self.seed, 0x52, a.r)),
        ));
        let tr_guid = guid_from(h3(self.seed, 0x5E, a.r), h3(self.seed, 0x5F, a.r));
        let tr_id = STANDARD.encode(format!("1##0##{tr_guid}"));
        (org, meeting_id, rec_id, tr_id)
    }

    /// A recording (or transcript) as Graph shows it; content URLs under `root` (`{base}/{v}`).
    /// `beta`: as the beta endpoint shows it, with `meetingOrganizerId` besides the v1.0
    /// properties (the beta callRecording and callTranscript resource pages).
    pub fn artifact_json(&self, i: usize, transcript: bool, root: &str, beta: bool) -> Value {
        let a = &self.artifacts[i];
        let (org, meeting_id, rec_id, tr_id) = self.artifact_ids(i);
        let call_id = guid_from(h3(self.seed, 0x60, a.r), h3(self.seed, 0x61, a.r));
        let correlation = guid_from(h3(self.seed, 0x62, a.r), h3(self.seed, 0x63, a.r));
        let organizer = json!({
            "application": null,
            "device": null,
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": org,
                "displayName": null,
                "userIdentityType": "aadUser",
                "tenantId": self.tenant_id,
            }
        });
        let mut v = if transcript {
            json!({
                "@odata.type": "#microsoft.graph.callTranscript",
                "id": tr_id,
                "meetingId": meeting_id,
                "callId": call_id,
                "contentCorrelationId": correlation,
                "createdDateTime": graph_datetime(a.created),
                "endDateTime": graph_datetime(a.ended),
                "transcriptContentUrl": format!("{root}/users/{org}/onlineMeetings/{meeting_id}/transcripts/{tr_id}/content"),
                "meetingOrganizer": organizer,
            })
        } else {
            json!({
                "@odata.type": "#microsoft.graph.callRecording",
                "id": rec_id,
                "meetingId": meeting_id,
                "callId": call_id,
                "contentCorrelationId": correlation,
                "createdDateTime": graph_datetime(a.created),
                "endDateTime": graph_datetime(a.ended),
                "recordingContentUrl": format!("{root}/users/{org}/onlineMeetings/{meeting_id}/recordings/{rec_id}/content"),
                "meetingOrganizer": organizer,
            })
        };
        if beta && let Some(o) = v.as_object_mut() {
            o.insert("meetingOrganizerId".into(), Value::String(org));
        }
        v
    }
}
