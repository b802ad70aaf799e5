//! `DynamoTable`: the production `Table` adapter over Amazon DynamoDB (aws-sdk-dynamodb).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ReturnValue, ScalarAttributeType,
    TransactWriteItem, Update as DynUpdate,
};
use serde_json::{Map, Number, Value};

use super::aws::{AwsSettings, backend_error, code_of};
use super::error::{StoreError, StoreResult};
use super::table::{
    Condition, Cursor, GSI1, GSI1_PK, GSI1_SK, Item, Key, PK, Page, Query, SK, Table, TxOp, Update,
    VERSION, validate_item, validate_key, validate_transaction,
};

const BACKEND: &str = "DynamoDB";

type AttrMap = HashMap<String, AttributeValue>;

/// The single table in DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

/// Names and values of one expression, built up as its parts are added.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: AttrMap,
}

impl Expr {
    fn name(&mut self, placeholder: &str, name: &str) -> String {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        placeholder.to_owned()
    }

    fn value(&mut self, placeholder: &str, value: AttributeValue) -> String {
        self.values.insert(placeholder.to_owned(), value);
        placeholder.to_owned()
    }

    fn condition(&mut self, condition: Condition) -> Option<String> {
        match condition {
            Condition::None => None,
            Condition::Absent => Some(format!("attribute_not_exists({})", self.name("#c_pk", PK))),
            Condition::Exists => Some(format!("attribute_exists({})", self.name("#c_pk", PK))),
            Condition::VersionEquals(n) => {
                let name = self.name("#c_ver", VERSION);
                let value = self.value(":c_ver", AttributeValue::N(n.to_string()));
                Some(format!("{name} = {value}"))
            }
        }
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<AttrMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn to_av(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(values) => AttributeValue::L(values.iter().map(to_av).collect()),
        Value::Object(map) => AttributeValue::M(to_attrs(map)),
    }
}

fn to_attrs(item: &Map<String, Value>) -> AttrMap {
    item.iter().map(|(k, v)| (k.clone(), to_av(v))).collect()
}

fn parse_number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        Value::Number(i.into())
    } else if let Ok(u) = n.parse::<u64>() {
        Value::Number(u.into())
    } else {
        n.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| Value::String(n.to_owned()), Value::Number)
    }
}

fn from_av(av: &AttributeValue) -> Value {
    use base64::Engine as _;
    match av {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => parse_number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(values) => Value::Array(values.iter().map(from_av).collect()),
        AttributeValue::M(map) => Value::Object(from_attrs(map)),
        AttributeValue::Ss(values) => {
            Value::Array(values.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(values) => {
            Value::Array(values.iter().map(|n| parse_number(n)).collect())
        }
        AttributeValue::B(blob) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(blob.as_ref()))
        }
        _ => Value::Null,
    }
}

fn from_attrs(map: &AttrMap) -> Item {
    map.iter().map(|(k, v)| (k.clone(), from_av(v))).collect()
}

fn key_attrs(key: &Key) -> AttrMap {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn encode_cursor(last: Option<&AttrMap>) -> Option<Cursor> {
    last.filter(|m| !m.is_empty())
        .map(|m| Cursor(Value::Object(from_attrs(m)).to_string()))
}

fn decode_cursor(cursor: Option<&Cursor>) -> StoreResult<Option<AttrMap>> {
    cursor
        .map(|c| {
            serde_json::from_str::<Item>(&c.0)
                .map(|item| to_attrs(&item))
                .map_err(|_| StoreError::invalid("a cursor that this table did not give"))
        })
        .transpose()
}

/// `SET #s0 = :s0, ... REMOVE #r0, ...` for an update, with its condition.
fn update_parts(update: &Update) -> (Expr, Option<String>, Option<String>) {
    let mut expr = Expr::default();
    let mut sets = Vec::new();
    for (i, (name, value)) in update.set.iter().enumerate() {
        let n = expr.name(&format!("#s{i}"), name);
        let v = expr.value(&format!(":s{i}"), to_av(value));
        sets.push(format!("{n} = {v}"));
    }
    let mut removes = Vec::new();
    for (i, name) in update.remove.iter().enumerate() {
        removes.push(expr.name(&format!("#r{i}"), name));
    }
    let mut clauses = Vec::new();
    if !sets.is_empty() {
        clauses.push(format!("SET {}", sets.join(", ")));
    }
    if !removes.is_empty() {
        clauses.push(format!("REMOVE {}", removes.join(", ")));
    }
    let update_expression = (!clauses.is_empty()).then(|| clauses.join(" "));
    let condition = expr.condition(update.condition);
    (expr, update_expression, condition)
}

fn invalid_build(e: impl std::fmt::Display) -> StoreError {
    StoreError::invalid(format!("could not build the DynamoDB request: {e}"))
}

impl DynamoTable {
    pub fn new(settings: &AwsSettings, table: impl Into<String>) -> Self {
        let mut builder = aws_sdk_dynamodb::config::Builder::from(settings.sdk());
        if let Some(endpoint) = settings.explicit_endpoint() {
            builder.set_endpoint_url(Some(endpoint.to_owned()));
        }
        let config = builder.build();
        DynamoTable {
            client: Client::from_conf(config),
            table: table.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Creates the table with its keys and GSI1, on-demand billing (for stand-ins and
    /// tests; production tables come from the infrastructure template, which declares
    /// the same keys).
    pub async fn create_table(&self) -> StoreResult<()> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(invalid_build)
        };
        let key = |name: &str, key_type: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .map_err(invalid_build)
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(key(GSI1_PK, KeyType::Hash)?)
            .key_schema(key(GSI1_SK, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(invalid_build)?;
        self.client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attr(PK)?)
            .attribute_definitions(attr(SK)?)
            .attribute_definitions(attr(GSI1_PK)?)
            .attribute_definitions(attr(GSI1_SK)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .global_secondary_indexes(gsi)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, format!("create table {}", self.table), e))?;
        Ok(())
    }

    /// Deletes the table (for stand-ins and tests).
    pub async fn delete_table(&self) -> StoreResult<()> {
        self.client
            .delete_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, format!("delete table {}", self.table), e))?;
        Ok(())
    }

    fn write_error<E>(
        &self,
        op: &str,
        what: impl std::fmt::Display,
        err: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    ) -> StoreError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        let code = code_of(&err);
        let message = match &err {
            aws_sdk_dynamodb::error::SdkError::ServiceError(se) => {
                se.err().message().unwrap_or_default().to_owned()
            }
            _ => String::new(),
        };
        match code.as_deref() {
            Some("ConditionalCheckFailedException") => StoreError::condition(what.to_string()),
            Some("ValidationException") if message.contains("size") => {
                StoreError::too_large(format!("{what}: {message}"))
            }
            // A value the table cannot hold (a number out of range, say): the caller's
            // to fix, never worth a retry.
            Some("ValidationException") => StoreError::invalid(format!("{what}: {message}")),
            Some("ResourceNotFoundException") => {
                StoreError::not_found(format!("table {}", self.table))
            }
            _ => backend_error(BACKEND, op, err),
        }
    }

    async fn query_on(&self, index: Option<&str>, query: &Query) -> StoreResult<Page> {
        let (pk_name, sk_name) = match index {
            Some(_) => (GSI1_PK, GSI1_SK),
            None => (PK, SK),
        };
        let mut expr = Expr::default();
        let mut key_condition = format!(
            "{} = {}",
            expr.name("#pk", pk_name),
            expr.value(":pk", AttributeValue::S(query.pk.clone()))
        );
        query.validate()?;
        if !query.sk_prefix.is_empty() {
            key_condition.push_str(&format!(
                " AND begins_with({}, {})",
                expr.name("#sk", sk_name),
                expr.value(":skp", AttributeValue::S(query.sk_prefix.clone()))
            ));
        }
        if let Some(before) = &query.sk_before {
            key_condition.push_str(&format!(
                " AND {} < {}",
                expr.name("#sk", sk_name),
                expr.value(":skb", AttributeValue::S(before.clone()))
            ));
        }
        if let Some(from) = &query.sk_from {
            key_condition.push_str(&format!(
                " AND {} >= {}",
                expr.name("#sk", sk_name),
                expr.value(":skf", AttributeValue::S(from.clone()))
            ));
        }
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(!query.descending)
            .set_limit(query.limit.map(|l| l.clamp(1, i32::MAX as u32) as i32))
            .set_exclusive_start_key(decode_cursor(query.cursor.as_ref())?)
            .send()
            .await
            .map_err(|e| self.write_error("query", "query", e))?;
        Ok(Page {
            items: out.items().iter().map(from_attrs).collect(),
            next: encode_cursor(out.last_evaluated_key()),
        })
    }

    fn tx_item(&self, op: TxOp) -> StoreResult<TransactWriteItem> {
        let item = match op {
            TxOp::Put { item, condition } => {
                let mut expr = Expr::default();
                let cond = expr.condition(condition);
                TransactWriteItem::builder().put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_attrs(&item)))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(invalid_build)?,
                )
            }
            TxOp::Update(update) => {
                let (expr, update_expression, cond) = update_parts(&update);
                let update_expression = update_expression.ok_or_else(|| {
                    StoreError::invalid("a transaction update must change something")
                })?;
                TransactWriteItem::builder().update(
                    DynUpdate::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(&update.key)))
                        .update_expression(update_expression)
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(invalid_build)?,
                )
            }
            TxOp::Delete { key, condition } => {
                let mut expr = Expr::default();
                let cond = expr.condition(condition);
                TransactWriteItem::builder().delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(&key)))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(invalid_build)?,
                )
            }
            TxOp::Check { key, condition } => {
                let mut expr = Expr::default();
                let cond = expr
                    .condition(condition)
                    .ok_or_else(|| StoreError::invalid("a condition check needs a condition"))?;
                TransactWriteItem::builder().condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(&key)))
                        .condition_expression(cond)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(invalid_build)?,
                )
            }
        };
        Ok(item.build())
    }
}

#[async_trait]
impl Table for DynamoTable {
    fn describe(&self) -> String {
        format!("DynamoDB table {}", self.table)
    }

    async fn health(&self) -> StoreResult<()> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| self.write_error("describe table", &self.table, e))?;
        let table = out
            .table()
            .ok_or_else(|| StoreError::not_found(format!("table {}", self.table)))?;
        let keys: Vec<(&str, &KeyType)> = table
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name(), k.key_type()))
            .collect();
        let has_gsi1 = table
            .global_secondary_indexes()
            .iter()
            .any(|g| g.index_name() == Some(GSI1));
        if keys != [(PK, &KeyType::Hash), (SK, &KeyType::Range)] || !has_gsi1 {
            return Err(StoreError::invalid(format!(
                "table {} exists but does not have the keys PK/SK and the index {GSI1}",
                self.table
            )));
        }
        Ok(())
    }

    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        validate_key(key)?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.write_error("get", key, e))?;
        Ok(out.item().map(from_attrs))
    }

    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        validate_item(&item)?;
        let key = Key::of(&item)?;
        let mut expr = Expr::default();
        let cond = expr.condition(condition);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(|e| self.write_error("put", &key, e))?;
        Ok(())
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        update.validate()?;
        let (expr, update_expression, cond) = update_parts(&update);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&update.key)))
            .set_update_expression(update_expression)
            .set_condition_expression(cond)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| self.write_error("update", &update.key, e))?;
        Ok(match out.attributes() {
            Some(attrs) if !attrs.is_empty() => from_attrs(attrs),
            _ => update.apply(None),
        })
    }

    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        validate_key(key)?;
        let mut expr = Expr::default();
        let cond = expr.condition(condition);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(|e| self.write_error("delete", key, e))?;
        Ok(())
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.query_on(None, query).await
    }

    async fn query_gsi1(&self, query: &Query) -> StoreResult<Page> {
        self.query_on(Some(GSI1), query).await
    }

    async fn scan(
        &self,
        segment: u32,
        total_segments: u32,
        cursor: Option<&Cursor>,
    ) -> StoreResult<Page> {
        if total_segments == 0 || segment >= total_segments {
            return Err(StoreError::invalid(format!(
                "scan segment {segment} of {total_segments}"
            )));
        }
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .segment(segment as i32)
            .total_segments(total_segments as i32)
            .set_exclusive_start_key(decode_cursor(cursor)?)
            .send()
            .await
            .map_err(|e| self.write_error("scan", "scan", e))?;
        Ok(Page {
            items: out.items().iter().map(from_attrs).collect(),
            next: encode_cursor(out.last_evaluated_key()),
        })
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        validate_transaction(&ops)?;
        let keys: Vec<Key> = ops.iter().map(TxOp::key).collect::<StoreResult<_>>()?;
        let items = ops
            .into_iter()
            .map(|op| self.tx_item(op))
            .collect::<StoreResult<Vec<_>>>()?;
        let single = items.len() == 1;
        let err = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let reasons = cancelled.cancellation_reasons();
            if let Some(i) = reasons
                .iter()
                .position(|r| r.code() == Some("ConditionalCheckFailed"))
            {
                let key = &keys[i.min(keys.len() - 1)];
                return Err(StoreError::condition(if single {
                    key.to_string()
                } else {
                    format!("operation {i} of the transaction ({key})")
                }));
            }
            let retryable = reasons.iter().any(|r| {
                matches!(
                    r.code(),
                    Some(
                        "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"
                    )
                )
            });
            return Err(StoreError::backend(
                BACKEND,
                "transaction",
                retryable,
                format!(
                    "cancelled: {}",
                    reasons
                        .iter()
                        .map(|r| r.code().unwrap_or("?"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Err(self.write_error("transaction", "transaction", err))
    }
}
