//! The ONDA dialect at `/dias-catalogue`: search, bare-integer `$count`,
//! one product, `$value` (HTTP Basic) and `Ens.Order` (HTTP Basic; at most
//! [`super::ServerConfig::order_quota`] orders an hour per user).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::auth::{Refusal, basic_user};
use super::odata::entries::onda_entry;
use super::odata::onda::parse_request;
use super::odata::request::Search;
use super::store::Ordered;
use super::{App, entity_id, query_pairs};
use cleope_eo::odata::response::OndaEntry;

/// An OData error body, as ONDA's catalogue wrote them.
fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({"error": {"code": code, "message": message.into()}});
    (status, axum::Json(body)).into_response()
}

fn bad_request(message: String) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("no product with id {id}: search for it first to get its id"),
    )
}

/// 401 with a `WWW-Authenticate` challenge; the password is never repeated.
fn unauthorized(refusal: Refusal, action: &str) -> Response {
    let message = match refusal {
        Refusal::WrongPassword { username } => format!(
            "wrong user name or password for user \"{username}\": {action} needs your ONDA account"
        ),
        Refusal::Malformed => format!(
            "the Authorization header is not HTTP Basic (base64 of user:password): {action} needs your ONDA account"
        ),
        _ => format!(
            "{action} needs your ONDA account: send the user name and password with HTTP Basic authentication"
        ),
    };
    let mut response = error(StatusCode::UNAUTHORIZED, "Unauthorized", message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"ONDA DIAS catalogue\""),
    );
    response
}

fn read_request(query: Option<String>) -> Result<Search, Box<Response>> {
    parse_request(&query_pairs(query.as_deref())).map_err(|e| Box::new(bad_request(e.to_string())))
}

/// `GET /dias-catalogue/Products?$search=…&$top=…&$skip=…&$format=json&$orderby=…`
pub(crate) async fn search(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let request = match read_request(query) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let mut store = app.store.lock().unwrap();
    store.restore_due(Utc::now());
    let found = match store.search(&request.filter, request.order, request.page) {
        Ok(found) => found,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string()),
    };
    let value: Vec<OndaEntry> = found
        .page
        .iter()
        .map(|(idx, online)| onda_entry(&store.get(*idx).record, *online))
        .collect();
    axum::Json(json!({"@odata.context": "$metadata#Products", "value": value})).into_response()
}

/// `GET /dias-catalogue/Products/$count?$search=…`: a bare integer.
pub(crate) async fn count(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let request = match read_request(query) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let mut store = app.store.lock().unwrap();
    store.restore_due(Utc::now());
    let everything = cleope_eo::odata::Page { top: 0, skip: 0 };
    match store.search(&request.filter, request.order, everything) {
        Ok(found) => (
            [(header::CONTENT_TYPE, "text/plain")],
            found.total.to_string(),
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string()),
    }
}

/// `GET /dias-catalogue/Products(<id>)`: one product's entry.
pub(crate) async fn product(State(app): State<Arc<App>>, Path(entity): Path<String>) -> Response {
    let Some(id) = entity_id(&entity) else {
        return not_found(&entity);
    };
    let mut store = app.store.lock().unwrap();
    store.restore_due(Utc::now());
    let Some(idx) = store.find(&id) else {
        return not_found(&id);
    };
    let entry = onda_entry(&store.get(idx).record, store.is_online(idx));
    let mut body = serde_json::to_value(entry).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut body {
        map.insert(
            "@odata.context".into(),
            Value::from("$metadata#Products/$entity"),
        );
    }
    axum::Json(body).into_response()
}

/// `GET /dias-catalogue/Products(<id>)/$value`: the download, for a user
/// with an ONDA account, of an online product.
pub(crate) async fn download(
    State(app): State<Arc<App>>,
    Path(entity): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = basic_user(&headers, &app.config.accounts) {
        return unauthorized(refusal, "downloading");
    }
    let Some(id) = entity_id(&entity) else {
        return not_found(&entity);
    };
    let prepared = {
        let mut store = app.store.lock().unwrap();
        store.restore_due(Utc::now());
        let Some(idx) = store.find(&id) else {
            return not_found(&id);
        };
        let record = store.get(idx).record.clone();
        if !store.is_online(idx) {
            return error(
                StatusCode::CONFLICT,
                "ProductOffline",
                format!(
                    "product {} is offline (archived): order it first with POST {}/Products({})/Ens.Order, \
                     then download it once it is online",
                    record.name,
                    app.onda_base(),
                    record.id
                ),
            );
        }
        super::prepare_download(&app, &store, &record, record.name.clone())
    };
    super::download::respond(prepared, &headers).await
}

/// `POST /dias-catalogue/Products(<id>)/Ens.Order`: restores an archived
/// product; answers `{"Status": "RUNNING", "EstimatedTime": "…Z"}`.
pub(crate) async fn order(
    State(app): State<Arc<App>>,
    Path(entity): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = match basic_user(&headers, &app.config.accounts) {
        Ok(user) => user,
        Err(refusal) => return unauthorized(refusal, "ordering"),
    };
    let Some(id) = entity_id(&entity) else {
        return not_found(&entity);
    };
    let now = Utc::now();
    let outcome = {
        let mut store = app.store.lock().unwrap();
        let Some(idx) = store.find(&id) else {
            return not_found(&id);
        };
        store.order(
            &user,
            idx,
            now,
            app.config.restore_delay,
            app.config.order_quota,
        )
    };
    match outcome {
        Ok(Ordered::AlreadyOnline) => axum::Json(json!({
            "Status": "COMPLETED",
            "EstimatedTime": order_time(now),
        }))
        .into_response(),
        Ok(Ordered::Accepted { ready, .. }) => {
            super::schedule_restore(&app);
            axum::Json(json!({"Status": "RUNNING", "EstimatedTime": order_time(ready)}))
                .into_response()
        }
        Ok(Ordered::Pending { ready, .. }) => {
            axum::Json(json!({"Status": "RUNNING", "EstimatedTime": order_time(ready)}))
                .into_response()
        }
        Ok(Ordered::QuotaExceeded { quota, next }) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            super::quota_message(&user, quota, next),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string()),
    }
}

/// ONDA's order time format, `%Y-%m-%dT%H:%M:%S.%fZ` with microseconds.
fn order_time(time: chrono::DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
