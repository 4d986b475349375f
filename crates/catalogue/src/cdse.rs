//! The CDSE dialect at `/odata/v1`: search (422 with CDSE's own body past
//! `$top` 1000 / `$skip` 10000, `@odata.count`, `@odata.nextLink`), one
//! product, `$value` (Bearer; answers a redirect to the download listener,
//! which checks the Bearer token again), `OData.CSC.Order`, and the
//! Keycloak token endpoint (password and refresh-token grants).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::auth::Refusal;
use super::odata::RequestError;
use super::odata::cdse::parse_request;
use super::odata::entries::cdse_entry;
use super::store::Ordered;
use super::{App, entity_id, query_pairs};
use cleope_eo::odata::cdse::MAX_SKIP;
use cleope_eo::odata::response::CdseEntry;
use cleope_eo::odata::wire::{encode_component, format_instant};

fn detail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"detail": message.into()}))).into_response()
}

fn not_found(id: &str) -> Response {
    detail(
        StatusCode::NOT_FOUND,
        format!("no product with Id {id}: search for it first to get its Id"),
    )
}

/// FastAPI's validation answer, as CDSE sends it for bad `$top`/`$skip`.
fn unprocessable(error: &RequestError) -> Option<Response> {
    let item = match error {
        RequestError::OverLimit {
            parameter,
            value,
            limit,
        } => json!({
            "type": "less_than_equal",
            "loc": ["query", parameter],
            "msg": format!("Input should be less than or equal to {limit}"),
            "input": value,
            "ctx": {"le": limit},
        }),
        RequestError::Negative { parameter, value } => json!({
            "type": "greater_than_equal",
            "loc": ["query", parameter],
            "msg": "Input should be greater than or equal to 0",
            "input": value,
            "ctx": {"ge": 0},
        }),
        RequestError::NotAnInteger { parameter, value } => json!({
            "type": "int_parsing",
            "loc": ["query", parameter],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": value,
        }),
        _ => return None,
    };
    Some(
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"detail": [item]})),
        )
            .into_response(),
    )
}

/// 401 for a missing, unknown or expired token.
fn unauthorized(app: &App, refusal: Refusal) -> Response {
    let message = match refusal {
        Refusal::Expired => "the access token has expired: get a new one from the token endpoint \
             (grant_type=refresh_token) and send it again"
            .to_string(),
        Refusal::UnknownToken => format!(
            "the access token is not valid here: log in at {} and send Authorization: Bearer <access_token>",
            app.token_url()
        ),
        _ => format!(
            "Not authenticated: send Authorization: Bearer <access_token>, with a token from {}",
            app.token_url()
        ),
    };
    let mut response = detail(StatusCode::UNAUTHORIZED, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

pub(crate) fn bearer(app: &App, headers: &HeaderMap) -> Result<String, Box<Response>> {
    app.tokens
        .lock()
        .unwrap()
        .bearer_user(headers)
        .map_err(|refusal| Box::new(unauthorized(app, refusal)))
}

/// `GET /odata/v1/Products?$filter=…&$orderby=…&$top=…&$skip=…&$count=…&$expand=…`
pub(crate) async fn search(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let pairs = query_pairs(query.as_deref());
    let request = match parse_request(&pairs) {
        Ok(request) => request,
        Err(error) => {
            return unprocessable(&error)
                .unwrap_or_else(|| detail(StatusCode::BAD_REQUEST, error.to_string()));
        }
    };
    let mut store = app.store.lock().unwrap();
    store.restore_due(Utc::now());
    let found = match store.search(
        &request.search.filter,
        request.search.order,
        request.search.page,
    ) {
        Ok(found) => found,
        Err(e) => return detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let value: Vec<CdseEntry> = found
        .page
        .iter()
        .map(|(idx, online)| {
            cdse_entry(&store.get(*idx).record, *online, request.expand_attributes)
        })
        .collect();
    let context = if request.expand_attributes {
        "$metadata#Products(Attributes())"
    } else {
        "$metadata#Products"
    };
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), Value::from(context));
    if request.count {
        body.insert("@odata.count".into(), Value::from(found.total));
    }
    body.insert(
        "value".into(),
        serde_json::to_value(value).unwrap_or_default(),
    );
    let next_skip = request.search.page.skip + request.search.page.top;
    if request.search.page.top > 0 && next_skip < found.total && next_skip <= MAX_SKIP {
        body.insert(
            "@odata.nextLink".into(),
            Value::from(next_link(&app, &pairs, next_skip)),
        );
    }
    axum::Json(Value::Object(body)).into_response()
}

/// The same request with `$skip` moved on, as an absolute URL with the
/// option names percent-encoded as CDSE writes them (`%24skip`).
fn next_link(app: &App, pairs: &[(String, String)], skip: usize) -> String {
    let mut parts: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key != "$skip")
        .map(|(key, value)| {
            format!(
                "{}={}",
                encode_component(key, ""),
                encode_component(value, "/:(),'=;*")
            )
        })
        .collect();
    parts.push(format!("%24skip={skip}"));
    format!("{}/Products?{}", app.cdse_base(), parts.join("&"))
}

/// `GET /odata/v1/Products(<id>)`: one product.
pub(crate) async fn product(
    State(app): State<Arc<App>>,
    Path(entity): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(id) = entity_id(&entity) else {
        return not_found(&entity);
    };
    let expand = query_pairs(query.as_deref()).iter().any(|(key, value)| {
        key == "$expand"
            && value
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("Attributes"))
    });
    let mut store = app.store.lock().unwrap();
    store.restore_due(Utc::now());
    let Some(idx) = store.find(&id) else {
        return not_found(&id);
    };
    let entry = cdse_entry(&store.get(idx).record, store.is_online(idx), expand);
    let mut body = serde_json::to_value(entry).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut body {
        map.insert(
            "@odata.context".into(),
            Value::from("$metadata#Products/$entity"),
        );
    }
    axum::Json(body).into_response()
}

/// `GET /odata/v1/Products(<id>)/$value`: checks the token, then redirects
/// to the download listener (another port: a client that drops the
/// Authorization header on the redirect is refused there).
pub(crate) async fn download(
    State(app): State<Arc<App>>,
    Path(entity): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = bearer(&app, &headers) {
        return *response;
    }
    let Some(id) = entity_id(&entity) else {
        return not_found(&entity);
    };
    let record = {
        let mut store = app.store.lock().unwrap();
        store.restore_due(Utc::now());
        let Some(idx) = store.find(&id) else {
            return not_found(&id);
        };
        if !store.is_online(idx) {
            return offline(&app, &store.get(idx).record);
        }
        store.get(idx).record.clone()
    };
    let location = format!(
        "{}/download/Products({})/$value",
        app.download_url, record.id
    );
    redirect_to(&app, &location)
}

/// The download redirect (307 unless configured otherwise) to `location`.
pub(crate) fn redirect_to(app: &App, location: &str) -> Response {
    let status =
        StatusCode::from_u16(app.config.redirect_status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub(crate) fn offline(app: &App, record: &cleope_eo::archive::ProductRecord) -> Response {
    detail(
        StatusCode::CONFLICT,
        format!(
            "product {} is offline (archived): order it first with POST {}/Products({})/OData.CSC.Order, \
             then download it once it is online",
            record.cdse_name,
            app.cdse_base(),
            record.id
        ),
    )
}

/// `GET /download/Products(<id>)/$value` on the download listener.
pub(crate) async fn download_host(
    State(app): State<Arc<App>>,
    Path(entity): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = bearer(&app, &headers) {
        return *response;
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
            return offline(&app, &record);
        }
        let filename = if record.packing == cleope_eo::download::Packing::Zip {
            format!("{}.zip", record.cdse_name)
        } else {
            record.cdse_name.clone()
        };
        super::prepare_download(&app, &store, &record, filename)
    };
    super::download::respond(prepared, &headers).await
}

/// `POST /odata/v1/Products(<id>)/OData.CSC.Order`: restores an archived
/// product; answers `{"value": {"Status": "queued"|"in_progress"|"completed",
/// "EstimatedDate": "…Z", …}}`.
pub(crate) async fn order(
    State(app): State<Arc<App>>,
    Path(entity): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = match bearer(&app, &headers) {
        Ok(user) => user,
        Err(response) => return *response,
    };
    let Some(id) = entity_id(&entity) else {
        return not_found(&entity);
    };
    let now = Utc::now();
    let (outcome, record) = {
        let mut store = app.store.lock().unwrap();
        let Some(idx) = store.find(&id) else {
            return not_found(&id);
        };
        let outcome = store.order(
            &user,
            idx,
            now,
            app.config.restore_delay,
            app.config.order_quota,
        );
        (outcome, store.get(idx).record.clone())
    };
    let answer = |order_id: String, status: &str, estimated| {
        axum::Json(json!({
            "@odata.context": "$metadata#OData.CSC.Order",
            "value": {
                "Id": order_id,
                "Name": record.cdse_name,
                "ProductId": record.id,
                "Status": status,
                "StatusMessage": match status {
                    "completed" => "the product is online",
                    _ => "the product is being restored from the archive",
                },
                "SubmissionDate": format_instant(now),
                "EstimatedDate": format_instant(estimated),
            }
        }))
        .into_response()
    };
    match outcome {
        Ok(Ordered::AlreadyOnline) => answer(uuid::Uuid::new_v4().to_string(), "completed", now),
        Ok(Ordered::Accepted { order_id, ready }) => {
            super::schedule_restore(&app);
            answer(order_id, "queued", ready)
        }
        Ok(Ordered::Pending { order_id, ready }) => answer(order_id, "in_progress", ready),
        Ok(Ordered::QuotaExceeded { quota, next }) => detail(
            StatusCode::TOO_MANY_REQUESTS,
            super::quota_message(&user, quota, next),
        ),
        Err(e) => detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /auth/realms/CDSE/protocol/openid-connect/token`, form-encoded:
/// `grant_type=password&username=…&password=…&client_id=cdse-public` or
/// `grant_type=refresh_token&refresh_token=…&client_id=cdse-public`.
pub(crate) async fn token(State(app): State<Arc<App>>, body: String) -> Response {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("client_id") != "cdse-public" {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client or Invalid client credentials (use client_id=cdse-public)",
        );
    }
    let grant = match field("grant_type") {
        "password" => {
            for name in ["username", "password"] {
                if field(name).is_empty() {
                    return token_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        &format!("Missing parameter: {name}"),
                    );
                }
            }
            if !super::auth::check_password(
                &app.config.accounts,
                field("username"),
                field("password"),
            ) {
                return token_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_grant",
                    "Invalid user credentials",
                );
            }
            app.tokens.lock().unwrap().grant(field("username"))
        }
        "refresh_token" => match app.tokens.lock().unwrap().refresh(field("refresh_token")) {
            Ok(grant) => grant,
            Err(Refusal::Expired) => {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Token is not active",
                );
            }
            Err(_) => {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid refresh token",
                );
            }
        },
        _ => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant_type (use password or refresh_token)",
            );
        }
    };
    axum::Json(json!({
        "access_token": grant.access,
        "expires_in": grant.access_lifetime.as_secs(),
        "refresh_expires_in": grant.refresh_lifetime.as_secs(),
        "refresh_token": grant.refresh,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": grant.session,
        "scope": "AUDIENCE_PUBLIC email profile user-context",
    }))
    .into_response()
}
