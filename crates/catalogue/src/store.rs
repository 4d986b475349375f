//! The catalogue's index: every product of the archive's `index.json` kept in
//! memory (record, parsed footprint and times) and in SQLite (the columns a
//! query can narrow by, an R*Tree of footprint bounding boxes, the online
//! state, and the orders).
//!
//! A search asks SQLite for the candidates (bounding boxes that overlap the
//! query's area, sensing times in range, collection, id, name, online
//! state: conditions every match must meet), in the requested order, then
//! tests each candidate exactly with [`Filter::matches`] (polygon
//! intersection included).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params, params_from_iter};

use super::ServerError;
use super::odata::filter::{Candidate, Comparison, Filter, NameMatch, TimeField};
use cleope_eo::archive::{ArchiveIndex, ProductRecord};
use cleope_eo::ens::name_stem;
use cleope_eo::geometry::Aoi;
use cleope_eo::odata::wire::parse_instant;
use cleope_eo::odata::{Page, SortOrder};

/// One indexed product.
#[derive(Debug, Clone)]
pub(crate) struct Indexed {
    pub record: ProductRecord,
    pub footprint: Option<Aoi>,
    pub begin: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    /// How many products match in all.
    pub total: usize,
    /// The page: product positions and their online state.
    pub page: Vec<(usize, bool)>,
}

/// What an order did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ordered {
    /// The product is online already; nothing to do.
    AlreadyOnline,
    /// A new order; online at this time.
    Accepted {
        order_id: String,
        ready: DateTime<Utc>,
    },
    /// An earlier order (of anyone) is still running; online at this time.
    Pending {
        order_id: String,
        ready: DateTime<Utc>,
    },
    /// The user's hourly quota is used up; the next order is possible then.
    QuotaExceeded { quota: usize, next: DateTime<Utc> },
}

pub(crate) struct Store {
    db: Connection,
    archive: PathBuf,
    products: Vec<Indexed>,
    by_id: HashMap<String, usize>,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS orders (
        order_id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        product_id TEXT NOT NULL,
        ordered_ms INTEGER NOT NULL,
        ready_ms INTEGER NOT NULL,
        restored INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS orders_by_user ON orders(username, ordered_ms);
    DROP TABLE IF EXISTS products;
    DROP TABLE IF EXISTS footprints;
    CREATE TABLE products (
        idx INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        name_stem TEXT NOT NULL,
        cdse_stem TEXT NOT NULL,
        platform TEXT NOT NULL,
        collection TEXT NOT NULL,
        begin_ms INTEGER,
        end_ms INTEGER,
        online INTEGER NOT NULL
    );
    CREATE INDEX products_by_begin ON products(begin_ms, name);
    CREATE INDEX products_by_id ON products(id);
    CREATE VIRTUAL TABLE footprints USING rtree(idx, lon_min, lon_max, lat_min, lat_max);
";

impl Store {
    /// Indexes the archive at `archive` (its `index.json`), in memory or in
    /// the SQLite file `database` (whose orders survive restarts).
    pub fn open(archive: &Path, database: Option<&Path>) -> Result<Store, ServerError> {
        let index = ArchiveIndex::load(archive).map_err(|e| ServerError::Archive(e.to_string()))?;
        let db = match database {
            Some(path) => Connection::open(path),
            None => Connection::open_in_memory(),
        }
        .map_err(|e| ServerError::database(database, e))?;
        db.execute_batch(SCHEMA)
            .map_err(|e| ServerError::database(database, e))?;
        let mut store = Store {
            db,
            archive: archive.to_path_buf(),
            products: Vec::new(),
            by_id: HashMap::new(),
        };
        store
            .insert(index.products)
            .map_err(|e| ServerError::database(database, e))?;
        store.restore_due(Utc::now());
        Ok(store)
    }

    fn insert(&mut self, records: Vec<ProductRecord>) -> rusqlite::Result<()> {
        let transaction = self.db.transaction()?;
        {
            let mut product = transaction.prepare(
                "INSERT INTO products (idx, id, name, name_stem, cdse_stem, platform, collection, begin_ms, end_ms, online)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut footprint = transaction.prepare(
                "INSERT INTO footprints (idx, lon_min, lon_max, lat_min, lat_max) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut restored = transaction
                .prepare("SELECT 1 FROM orders WHERE product_id = ?1 AND restored = 1")?;
            for record in records {
                let idx = self.products.len();
                let shape = Aoi::from_wkt(&record.footprint).ok();
                let indexed = Indexed {
                    begin: parse_instant(&record.begin),
                    end: parse_instant(&record.end),
                    footprint: shape,
                    record,
                };
                let record = &indexed.record;
                // A product restored by an earlier run, or moved into place by
                // hand, is online whatever the index says.
                let online = record.online
                    || self.archive.join(record.ens_relative()).exists()
                    || restored.exists([&record.id])?;
                product.execute(params![
                    idx as i64,
                    record.id.to_ascii_lowercase(),
                    record.name,
                    name_stem(&record.name),
                    name_stem(&record.cdse_name),
                    record.mission.as_deref().unwrap_or("").to_ascii_lowercase(),
                    record.collection.to_ascii_uppercase(),
                    indexed.begin.map(|t| t.timestamp_millis()),
                    indexed.end.map(|t| t.timestamp_millis()),
                    online,
                ])?;
                if let Some(shape) = &indexed.footprint {
                    let (lon_min, lat_min, lon_max, lat_max) = shape.bbox().to_tuple();
                    footprint.execute(params![idx as i64, lon_min, lon_max, lat_min, lat_max])?;
                }
                self.by_id.insert(record.id.to_ascii_lowercase(), idx);
                self.products.push(indexed);
            }
        }
        transaction.commit()
    }

    /// How many products the archive holds.
    pub fn len(&self) -> usize {
        self.products.len()
    }

    /// The product at a position.
    pub fn get(&self, idx: usize) -> &Indexed {
        &self.products[idx]
    }

    /// The position of a product by id (any case) or name (ONDA or CDSE, with
    /// or without extension).
    pub fn find(&self, key: &str) -> Option<usize> {
        let key = key.trim().trim_matches('\'');
        if let Some(idx) = self.by_id.get(&key.to_ascii_lowercase()) {
            return Some(*idx);
        }
        let stem = name_stem(key);
        self.products.iter().position(|p| {
            name_stem(&p.record.name) == stem || name_stem(&p.record.cdse_name) == stem
        })
    }

    /// Whether a product is online now.
    pub fn is_online(&self, idx: usize) -> bool {
        self.db
            .query_row(
                "SELECT online FROM products WHERE idx = ?1",
                [idx as i64],
                |row| row.get::<_, bool>(0),
            )
            .unwrap_or(false)
    }

    /// The products matching `filter`, in `order`, paged.
    pub fn search(&self, filter: &Filter, order: SortOrder, page: Page) -> rusqlite::Result<Found> {
        let (sql, values) = prefilter(filter, order);
        let mut statement = self.db.prepare_cached(&sql)?;
        let rows = statement.query_map(params_from_iter(values.iter()), |row| {
            Ok((row.get::<_, i64>(0)? as usize, row.get::<_, bool>(1)?))
        })?;
        let mut total = 0;
        let mut found = Vec::new();
        for row in rows {
            let (idx, online) = row?;
            let product = &self.products[idx];
            let candidate = Candidate {
                record: &product.record,
                footprint: product.footprint.as_ref(),
                begin: product.begin,
                end: product.end,
                online,
            };
            if filter.matches(&candidate) {
                if total >= page.skip && found.len() < page.top {
                    found.push((idx, online));
                }
                total += 1;
            }
        }
        Ok(Found { total, page: found })
    }

    /// Orders a product for `user`: a new order comes online after `delay`,
    /// unless the user has placed `quota` orders in the last hour.
    pub fn order(
        &mut self,
        user: &str,
        idx: usize,
        now: DateTime<Utc>,
        delay: std::time::Duration,
        quota: usize,
    ) -> rusqlite::Result<Ordered> {
        self.restore_due(now);
        if self.is_online(idx) {
            return Ok(Ordered::AlreadyOnline);
        }
        let product_id = self.products[idx].record.id.clone();
        let pending: Option<(String, i64)> = self
            .db
            .query_row(
                "SELECT order_id, ready_ms FROM orders WHERE product_id = ?1 AND restored = 0
                 ORDER BY ready_ms LIMIT 1",
                [&product_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .ok();
        if let Some((order_id, ready)) = pending {
            return Ok(Ordered::Pending {
                order_id,
                ready: instant_of(ready),
            });
        }
        let hour_ago = now.timestamp_millis() - 3_600_000;
        let recent: Vec<i64> = {
            let mut statement = self.db.prepare_cached(
                "SELECT ordered_ms FROM orders WHERE username = ?1 AND ordered_ms > ?2 ORDER BY ordered_ms",
            )?;
            statement
                .query_map(params![user, hour_ago], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        if recent.len() >= quota {
            let oldest = recent[recent.len() - quota];
            return Ok(Ordered::QuotaExceeded {
                quota,
                next: instant_of(oldest + 3_600_000),
            });
        }
        let order_id = uuid::Uuid::new_v4().to_string();
        // Kept in milliseconds, so a repeated order answers the same time.
        let ready = instant_of(
            (now + chrono::Duration::from_std(delay).unwrap_or_default()).timestamp_millis(),
        );
        self.db.execute(
            "INSERT INTO orders (order_id, username, product_id, ordered_ms, ready_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![order_id, user, product_id, now.timestamp_millis(), ready.timestamp_millis()],
        )?;
        Ok(Ordered::Accepted { order_id, ready })
    }

    /// Brings online every ordered product whose restoration time has come:
    /// moves `.offline/<pseudopath>/<name>` into `<pseudopath>/<name>` (so ENS
    /// sees it) and marks it online. Returns the positions restored.
    pub fn restore_due(&mut self, now: DateTime<Utc>) -> Vec<usize> {
        let due: Vec<(String, String)> = self
            .db
            .prepare_cached(
                "SELECT order_id, product_id FROM orders WHERE restored = 0 AND ready_ms <= ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([now.timestamp_millis()], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?
                    .collect()
            })
            .unwrap_or_default();
        let mut restored = Vec::new();
        for (order_id, product_id) in due {
            let _ = self.db.execute(
                "UPDATE orders SET restored = 1 WHERE order_id = ?1",
                [&order_id],
            );
            let Some(&idx) = self.by_id.get(&product_id.to_ascii_lowercase()) else {
                continue;
            };
            move_into_place(&self.archive, &self.products[idx].record);
            let _ = self.db.execute(
                "UPDATE products SET online = 1 WHERE idx = ?1",
                [idx as i64],
            );
            restored.push(idx);
        }
        restored
    }

    /// The archive root.
    pub fn archive(&self) -> &Path {
        &self.archive
    }
}

/// Moves an archived product where ENS shows online products. A read-only
/// archive (a real mount) cannot be changed: the catalogue still reports
/// the product online, as the real services do once restored.
fn move_into_place(archive: &Path, record: &ProductRecord) {
    let from = archive.join(record.offline_relative());
    let to = archive.join(record.ens_relative());
    if to.exists() || !from.exists() {
        return;
    }
    if let Some(parent) = to.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::rename(&from, &to);
}

fn instant_of(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// The SQL that lists the candidates of a filter in order, and its values:
/// only conditions every match meets (the top-level conjuncts SQLite can
/// test), so no match is ever left out.
fn prefilter(filter: &Filter, order: SortOrder) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut from = "products p".to_string();
    if let Some((lon_min, lat_min, lon_max, lat_max)) = filter.required_bbox() {
        from.push_str(" JOIN footprints f ON f.idx = p.idx");
        conditions
            .push("f.lon_max >= ? AND f.lon_min <= ? AND f.lat_max >= ? AND f.lat_min <= ?".into());
        values.extend([lon_min, lon_max, lat_min, lat_max].map(Value::Real));
    }
    for part in filter.conjuncts() {
        match part {
            Filter::Time { field, op, instant } => {
                let column = match field {
                    TimeField::SensingStart => "p.begin_ms",
                    TimeField::SensingEnd | TimeField::Publication => "p.end_ms",
                };
                let comparison = match op {
                    Comparison::Ge | Comparison::Gt => ">=",
                    Comparison::Le | Comparison::Lt => "<=",
                    Comparison::Eq => "=",
                    Comparison::Ne => continue,
                };
                conditions.push(format!("{column} {comparison} ?"));
                values.push(Value::Integer(instant.timestamp_millis()));
            }
            // A platform name without wildcards: the platform or the collection.
            Filter::Mission(mission) if !mission.contains(['*', '?', '[']) => {
                conditions.push("(p.platform = ? OR p.collection = ?)".into());
                values.push(Value::Text(mission.to_ascii_lowercase()));
                values.push(Value::Text(mission.to_ascii_uppercase()));
            }
            Filter::Collection(collection) => {
                conditions.push("p.collection = ?".into());
                values.push(Value::Text(collection.to_ascii_uppercase()));
            }
            Filter::Id(id) => {
                conditions.push("p.id = ?".into());
                values.push(Value::Text(id.to_ascii_lowercase()));
            }
            Filter::Online(online) => {
                conditions.push("p.online = ?".into());
                values.push(Value::Integer(*online as i64));
            }
            Filter::Name(NameMatch::Exact(name)) => {
                conditions.push("(p.name_stem = ? OR p.cdse_stem = ?)".into());
                let stem = name_stem(name).to_string();
                values.push(Value::Text(stem.clone()));
                values.push(Value::Text(stem));
            }
            _ => {}
        }
    }
    let direction = match order {
        SortOrder::SensingAscending => "ASC",
        SortOrder::SensingDescending => "DESC",
    };
    let mut sql = format!("SELECT p.idx, p.online FROM {from}");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(&format!(
        " ORDER BY p.begin_ms {direction}, p.name {direction}"
    ));
    (sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleope_eo::geometry::BBox;
    use cleope_eo::odata::Query;
    use rand::{Rng, SeedableRng};

    /// An index of varied records (no product files: searching reads none).
    fn archive(root: &Path) -> ArchiveIndex {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let kinds = [
            ("Sentinel-1", "SENTINEL-1", "IW_GRDH_1S", "S1A_IW_GRDH_1SDV"),
            ("Sentinel-2", "SENTINEL-2", "S2MSI2A", "S2A_MSIL2A"),
            (
                "Sentinel-3",
                "SENTINEL-3",
                "OL_2_WFR___",
                "S3A_OL_2_WFR____",
            ),
            (
                "Sentinel-5 Precursor",
                "SENTINEL-5P",
                "L2__NO2___",
                "S5P_OFFL_L2__NO2____",
            ),
        ];
        let products = (0..120)
            .map(|i| {
                let (mission, collection, kind, prefix) = kinds[i % kinds.len()];
                let begin =
                    DateTime::from_timestamp(1_577_836_800 + rng.random_range(0..86_400 * 60), 0)
                        .unwrap();
                let (lon, lat) = (rng.random_range(0.0..20.0), rng.random_range(35.0..55.0));
                // Triangles: their boxes overlap more than they do.
                let footprint = format!(
                    "POLYGON (({lon} {lat}, {} {lat}, {lon} {}, {lon} {lat}))",
                    lon + 2.0,
                    lat + 2.0
                );
                let name = format!("{prefix}_{}_{i:03}", begin.format("%Y%m%dT%H%M%S"));
                let mut attributes = serde_json::Map::new();
                if mission == "Sentinel-2" {
                    attributes.insert(
                        "cloudCover".into(),
                        serde_json::json!(rng.random_range(0.0..100.0)),
                    );
                }
                ProductRecord {
                    id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string(),
                    name: format!("{name}.zip"),
                    cdse_name: format!("{name}.SAFE"),
                    mission: Some(mission.into()),
                    collection: collection.into(),
                    product_type: kind.into(),
                    main_class: None,
                    begin: begin.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    end: (begin + chrono::Duration::seconds(30))
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    footprint,
                    pseudopath: "OPTICAL/LEVEL-2/2020/01/01".into(),
                    s3_path: format!("/eodata/x/{name}.SAFE"),
                    online: i % 7 != 0,
                    packing: cleope_eo::download::Packing::Zip,
                    size: 1,
                    md5: String::new(),
                    blake3: String::new(),
                    attributes,
                }
            })
            .collect();
        let index = ArchiveIndex {
            version: cleope_eo::archive::INDEX_VERSION,
            products,
        };
        std::fs::create_dir_all(root).unwrap();
        std::fs::write(
            root.join("index.json"),
            serde_json::to_string(&index).unwrap(),
        )
        .unwrap();
        index
    }

    #[test]
    fn the_index_finds_what_ens_finds() {
        let dir = tempfile::tempdir().unwrap();
        let index = archive(dir.path());
        let store = Store::open(dir.path(), None).unwrap();
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        let area = |a, b, c, d| Some(Aoi::from_bbox(BBox::new(a, b, c, d).unwrap()));
        let queries = [
            Query::default(),
            Query {
                mission: Some("Sentinel-2".into()),
                ..Query::default()
            },
            Query {
                mission: Some("SENTINEL-5P".into()),
                ..Query::default()
            },
            Query {
                mission: Some("sentinel-*".into()),
                max_cloud: Some(40.0),
                ..Query::default()
            },
            Query {
                mission: Some("Sentinel-1".into()),
                product_type: Some("GRD".into()),
                ..Query::default()
            },
            Query {
                aoi: area(5.0, 40.0, 8.0, 43.0),
                ..Query::default()
            },
            Query {
                aoi: area(10.0, 45.0, 10.5, 45.5),
                sensed_from: Some(at("2020-01-10T00:00:00Z")),
                sensed_to: Some(at("2020-02-10T00:00:00Z")),
                order: SortOrder::SensingDescending,
                ..Query::default()
            },
            Query {
                name: Some(index.products[17].cdse_name.clone()),
                ..Query::default()
            },
        ];
        let mut some_found = 0;
        for query in &queries {
            let expected: Vec<&str> = cleope_eo::ens::find(&index, query)
                .iter()
                .map(|p| p.id.as_str())
                .collect();
            let found = store
                .search(
                    &Filter::from_query(query),
                    query.order,
                    Page { top: 1000, skip: 0 },
                )
                .unwrap();
            let ids: Vec<&str> = found
                .page
                .iter()
                .map(|(idx, _)| store.get(*idx).record.id.as_str())
                .collect();
            assert_eq!(ids, expected, "{query:?}");
            assert_eq!(found.total, expected.len());
            some_found +=
                usize::from(!expected.is_empty() && expected.len() < index.products.len());
        }
        assert!(
            some_found >= 5,
            "the queries select something, not everything"
        );
        let page = store
            .search(
                &Filter::All,
                SortOrder::SensingAscending,
                Page { top: 10, skip: 115 },
            )
            .unwrap();
        assert_eq!((page.total, page.page.len()), (120, 5));
    }
}
