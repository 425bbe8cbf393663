//! The server's clock: STS's `Date` header, to tell a person how far off their clock is.

/// Remembers the `Date` header of a response, to measure the local clock against STS's.
#[derive(Clone, Debug, Default)]
pub struct DateRecorder(std::sync::Arc<std::sync::Mutex<Option<i64>>>);

impl DateRecorder {
    pub fn seconds(&self) -> Option<i64> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl aws_sdk_sts::config::Intercept for DateRecorder {
    fn name(&self) -> &'static str {
        "DateRecorder"
    }

    fn read_after_transmit(
        &self,
        context: &aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_sts::config::RuntimeComponents,
        _cfg: &mut aws_sdk_sts::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let date = context.response().headers().get("date").and_then(http_date);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = date;
        Ok(())
    }
}

/// Unix seconds from an HTTP `Date` header (`Sun, 29 Nov 2026 07:02:16 GMT`).
pub fn http_date(value: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|d| d.timestamp())
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_dates() {
        assert_eq!(
            super::http_date("Sun, 29 Nov 2026 17:42:00 GMT"),
            Some(1_795_974_120)
        );
        assert_eq!(super::http_date("yesterday"), None);
    }
}
