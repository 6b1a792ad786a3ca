//! Bank statement CSV files: decoding, RFC 4180 parsing, and a verdict for
//! every row. Pure: no IO, no SQL; the caller supplies which units exist
//! and which bank references are already recorded.
//!
//! # The format
//!
//! - One header row, required. Columns are recognised by name, in Chinese
//!   or English, in any order, case and surrounding spaces ignored:
//!   `日期`/`date`, `金额`/`amount`, `房号`/`unit`, `流水号`/`reference`,
//!   optional `方式`/`method` (`bank`/`银行` when absent or empty, else one of
//!   `bank wechat alipay cash other` or `银行 微信 支付宝 现金 其他`), optional
//!   `摘要`/`memo` (ignored). Other columns are ignored.
//! - Fields separated by commas, quoted with `"` and `""` inside quotes
//!   (RFC 4180); lines end in CRLF or LF; blank lines are skipped.
//! - UTF-8 (a leading BOM is skipped) or GB18030/GBK, as the uploader says.
//! - Dates `2026-11-03`, `2026/11/03`, `2026.11.03` or `20261103`; amounts
//!   in yuan with at most two decimals, e.g. `160.00`.
//!
//! A whole file is refused ([`FileError`]) when it is empty, larger than
//! [`MAX_FILE_BYTES`], contains NUL bytes, does not decode, has more than
//! [`MAX_ROWS`] rows, breaks the quoting rules, or lacks a required column.
//! Otherwise each row is taken or refused on its own ([`Refusal`]).

use std::collections::BTreeSet;

use crate::domain::{code, BankRef, Date, Money, Period, UnitId};
use crate::ledger::PayMethod;

/// Largest file accepted (the HTTP layer enforces the same bound).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 5_000;
/// Longest cell kept; anything longer is refused with its row.
pub const MAX_CELL_CHARS: usize = 256;

/// What the uploader says the file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gb18030,
}

impl Encoding {
    pub fn parse(text: &str) -> Option<Encoding> {
        match text.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "gb18030" | "gbk" | "gb2312" => Some(Encoding::Gb18030),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gb18030 => "gb18030",
        }
    }
}

/// Why a whole file was refused. Nothing from it is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    Empty,
    TooLarge,
    Binary,
    /// Not UTF-8; `line` is where the first bad byte sits.
    NotUtf8 {
        line: usize,
    },
    NotGb18030 {
        line: usize,
    },
    BadQuoting {
        line: usize,
    },
    TooManyRows,
    DuplicateColumn(String),
    /// The required columns not found, as their English names.
    MissingColumns(Vec<&'static str>),
}

impl FileError {
    pub fn code(&self) -> &'static str {
        match self {
            FileError::Empty => "empty_file",
            FileError::TooLarge => "file_too_large",
            FileError::Binary => "binary_file",
            FileError::NotUtf8 { .. } => "not_utf8",
            FileError::NotGb18030 { .. } => "not_gb18030",
            FileError::BadQuoting { .. } => "bad_quoting",
            FileError::TooManyRows => "too_many_rows",
            FileError::DuplicateColumn(_) => "duplicate_column",
            FileError::MissingColumns(_) => "missing_columns",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            FileError::Empty => "the file is empty: it needs a header row and at least one payment".into(),
            FileError::TooLarge => format!("the file is larger than {} MiB", MAX_FILE_BYTES >> 20),
            FileError::Binary => "the file contains NUL bytes: it is not a CSV text file (an .xlsx? save it as CSV)".into(),
            FileError::NotUtf8 { line } => format!("the file is not valid UTF-8 (line {line}); choose GB18030 if your bank exports GBK"),
            FileError::NotGb18030 { line } => format!("the file cannot be read as GB18030 (line {line}); choose UTF-8 if it is UTF-8"),
            FileError::BadQuoting { line } => format!("a quoted field is not closed properly (line {line})"),
            FileError::TooManyRows => format!("the file has more than {MAX_ROWS} rows; split it"),
            FileError::DuplicateColumn(c) => format!("the column {c} appears twice"),
            FileError::MissingColumns(cols) => format!("required columns missing: {}", cols.join(", ")),
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            FileError::Empty => "文件是空的：需要一行表头和至少一笔缴费".into(),
            FileError::TooLarge => format!("文件超过 {} MiB", MAX_FILE_BYTES >> 20),
            FileError::Binary => {
                "文件含有 NUL 字节，不是 CSV 文本文件（若是 .xlsx，请另存为 CSV）".into()
            }
            FileError::NotUtf8 { line } => format!(
                "文件不是有效的 UTF-8（第 {line} 行）；如果银行导出的是 GBK，请选择 GB18030"
            ),
            FileError::NotGb18030 { line } => {
                format!("文件无法按 GB18030 读取（第 {line} 行）；如果是 UTF-8，请选择 UTF-8")
            }
            FileError::BadQuoting { line } => format!("引号没有正确闭合（第 {line} 行）"),
            FileError::TooManyRows => format!("文件超过 {MAX_ROWS} 行，请拆分后再导入"),
            FileError::DuplicateColumn(c) => format!("列 {c} 出现了两次"),
            FileError::MissingColumns(cols) => {
                let zh: Vec<&str> = cols.iter().map(|c| column_zh(c)).collect();
                format!("缺少必需的列：{}（{}）", zh.join("、"), cols.join(", "))
            }
        }
    }
}

fn column_zh(en: &str) -> &'static str {
    match en {
        "date" => "日期",
        "amount" => "金额",
        "unit" => "房号",
        "reference" => "流水号",
        "method" => "方式",
        _ => "摘要",
    }
}

/// One data row's cells as written (untrimmed), by column.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// Line in the file where the row starts (the header is line 1).
    pub line: usize,
    pub date: String,
    pub amount: String,
    pub unit: String,
    pub reference: String,
    pub method: String,
}

/// Decodes and parses a file into rows; see the module docs for the rules.
pub fn read(bytes: &[u8], encoding: Encoding) -> Result<Vec<Row>, FileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge);
    }
    if bytes.contains(&0) {
        return Err(FileError::Binary);
    }
    let text = decode(bytes, encoding)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let records = records(text)?;
    let mut records = records.into_iter();
    let (_, header) = records.next().ok_or(FileError::Empty)?;
    let cols = Columns::find(&header)?;
    let mut rows = Vec::new();
    for (line, cells) in records {
        if rows.len() == MAX_ROWS {
            return Err(FileError::TooManyRows);
        }
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).cloned().unwrap_or_default();
        rows.push(Row {
            line,
            date: cell(Some(cols.date)),
            amount: cell(Some(cols.amount)),
            unit: cell(Some(cols.unit)),
            reference: cell(Some(cols.reference)),
            method: cell(cols.method),
        });
    }
    if rows.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(rows)
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, FileError> {
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => Err(FileError::NotUtf8 {
                line: line_of(bytes, e.valid_up_to()),
            }),
        },
        Encoding::Gb18030 => {
            let (text, had_errors) = encoding_rs::GB18030
                .decode_without_bom_handling_and_without_replacement(bytes)
                .map(|t| (t, false))
                .unwrap_or_else(|| (std::borrow::Cow::Borrowed(""), true));
            if had_errors {
                // Find where it went wrong, for the report.
                let (lossy, _, _) = encoding_rs::GB18030.decode(bytes);
                let line = lossy
                    .find('\u{fffd}')
                    .map(|at| 1 + lossy[..at].matches('\n').count())
                    .unwrap_or(1);
                return Err(FileError::NotGb18030 { line });
            }
            Ok(text.into_owned())
        }
    }
}

/// RFC 4180 records with the line each starts on; blank lines skipped.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, FileError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut start = 1usize;
    let mut in_record = false;
    // Keeps the record unless it is one empty cell (a blank line).
    let finish = |cells: &mut Vec<String>, cell: &mut String, start: usize, out: &mut Vec<_>| {
        cells.push(std::mem::take(cell));
        let record = std::mem::take(cells);
        if !(record.len() == 1 && record[0].trim().is_empty()) {
            out.push((start, record));
        }
    };
    while let Some(c) = chars.next() {
        if !in_record {
            in_record = true;
            start = line;
        }
        match c {
            '"' if cell.is_empty() => {
                // A quoted field: up to the closing quote, "" is a quote.
                let open_line = line;
                loop {
                    match chars.next() {
                        None => return Err(FileError::BadQuoting { line: open_line }),
                        Some('"') => {
                            if chars.peek() == Some(&'"') {
                                chars.next();
                                cell.push('"');
                            } else {
                                break;
                            }
                        }
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            cell.push(ch);
                        }
                    }
                }
                match chars.peek() {
                    None | Some(',') | Some('\n') | Some('\r') => {}
                    Some(_) => return Err(FileError::BadQuoting { line }),
                }
                if cell.is_empty() {
                    // `""` is an empty cell; keep it distinct from a bare one
                    // only in that it was quoted, which does not matter here.
                }
                if cell.chars().count() > MAX_CELL_CHARS {
                    cell = cell.chars().take(MAX_CELL_CHARS + 1).collect();
                }
            }
            ',' => cells.push(std::mem::take(&mut cell)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                finish(&mut cells, &mut cell, start, &mut out);
                in_record = false;
                line += 1;
            }
            other => {
                if cell.chars().count() <= MAX_CELL_CHARS {
                    cell.push(other);
                }
            }
        }
        if out.len() > MAX_ROWS + 1 {
            return Err(FileError::TooManyRows);
        }
    }
    if in_record {
        finish(&mut cells, &mut cell, start, &mut out);
    }
    Ok(out)
}

/// Where each recognised column is.
struct Columns {
    date: usize,
    amount: usize,
    unit: usize,
    reference: usize,
    method: Option<usize>,
}

impl Columns {
    fn find(header: &[String]) -> Result<Columns, FileError> {
        let mut found: [Option<usize>; 5] = [None; 5];
        const NAMES: [&str; 5] = ["date", "amount", "unit", "reference", "method"];
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}').to_lowercase();
            let slot = match name.as_str() {
                "日期" | "date" => 0,
                "金额" | "amount" => 1,
                "房号" | "unit" => 2,
                "流水号" | "reference" => 3,
                "方式" | "method" => 4,
                _ => continue,
            };
            if found[slot].is_some() {
                return Err(FileError::DuplicateColumn(name));
            }
            found[slot] = Some(i);
        }
        let missing: Vec<&'static str> = (0..4)
            .filter(|i| found[*i].is_none())
            .map(|i| NAMES[i])
            .collect();
        match found {
            [Some(date), Some(amount), Some(unit), Some(reference), method] => Ok(Columns {
                date,
                amount,
                unit,
                reference,
                method,
            }),
            _ => Err(FileError::MissingColumns(missing)),
        }
    }
}

/// Why one row is not taken: the column it is about and a stable code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub code: &'static str,
    /// What was wrong, in English (the code has a Chinese text in
    /// [`refusal_zh`]).
    pub message: String,
}

/// A row that passed every check, ready to become a `fee_paid` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub unit: UnitId,
    pub amount: Money,
    pub paid_on: Date,
    pub method: PayMethod,
    pub reference: Option<BankRef>,
}

/// One row and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub row: Row,
    pub verdict: Result<Payment, Refusal>,
}

/// What a row is checked against.
pub struct Context<'a> {
    /// The month every payment date must fall in.
    pub period: Period,
    /// Today in the estate's time zone: no payment is dated after it.
    pub today: Date,
    pub is_unit: &'a dyn Fn(&UnitId) -> bool,
    /// Bank references already recorded for the estate.
    pub taken: &'a BTreeSet<String>,
}

/// Gives every row its verdict. A reference refused as a duplicate is the
/// second and later use in the file; the first use may still be taken.
pub fn check(rows: &[Row], cx: &Context<'_>) -> Vec<Checked> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    rows.iter()
        .map(|row| {
            let verdict = check_row(row, cx, &mut seen);
            Checked {
                row: row.clone(),
                verdict,
            }
        })
        .collect()
}

/// True when a spreadsheet would run the cell as a formula (OWASP CSV
/// injection): it begins with `=`, `+`, `-`, `@`, a tab or a CR.
pub fn looks_like_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

fn refuse(field: &'static str, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        code,
        message: message.into(),
    }
}

fn check_row(row: &Row, cx: &Context<'_>, seen: &mut BTreeSet<String>) -> Result<Payment, Refusal> {
    // Text cells must not look like formulas; the number cells may start
    // with a sign, which their own parsers judge, but never with = or @.
    for (field, cell, text) in [
        ("unit", &row.unit, true),
        ("reference", &row.reference, true),
        ("method", &row.method, true),
        ("date", &row.date, false),
        ("amount", &row.amount, false),
    ] {
        let formula = if text {
            looks_like_formula(cell)
        } else {
            cell.starts_with(['=', '@', '\t', '\r'])
        };
        if formula {
            return Err(refuse(
                field,
                "formula",
                format!("{field} looks like a spreadsheet formula"),
            ));
        }
        if cell.chars().count() > MAX_CELL_CHARS {
            return Err(refuse(
                field,
                code::TOO_LONG,
                format!("{field} is too long"),
            ));
        }
    }
    for (field, cell) in [
        ("date", &row.date),
        ("amount", &row.amount),
        ("unit", &row.unit),
    ] {
        if cell.trim().is_empty() {
            return Err(refuse(field, "missing_field", format!("{field} is empty")));
        }
    }
    let method = match row.method.trim().to_lowercase().as_str() {
        "" | "bank" | "银行" | "银行转账" => PayMethod::Bank,
        "wechat" | "微信" => PayMethod::Wechat,
        "alipay" | "支付宝" => PayMethod::Alipay,
        "cash" | "现金" => PayMethod::Cash,
        "other" | "其他" => PayMethod::Other,
        _ => {
            return Err(refuse(
                "method",
                "bad_method",
                "method must be bank, wechat, alipay, cash or other",
            ))
        }
    };
    if method == PayMethod::Bank && row.reference.trim().is_empty() {
        return Err(refuse(
            "reference",
            "missing_field",
            "a bank payment needs its bank reference",
        ));
    }
    let paid_on = parse_date(&row.date)
        .ok_or_else(|| refuse("date", "bad_date", "date must look like 2026-11-03"))?;
    if paid_on > cx.today {
        return Err(refuse(
            "date",
            "future_date",
            format!("{paid_on} is in the future"),
        ));
    }
    if paid_on.period() != cx.period {
        return Err(refuse(
            "date",
            "outside_period",
            format!("{paid_on} is not in {}", cx.period),
        ));
    }
    let amount = Money::parse_positive("amount", row.amount.trim())
        .map_err(|e| refuse("amount", e.code, format!("amount {}", e.message)))?;
    let unit = UnitId::parse("unit", row.unit.trim())
        .map_err(|e| refuse("unit", "unknown_unit", format!("unit {}", e.message)))?;
    if !(cx.is_unit)(&unit) {
        return Err(refuse(
            "unit",
            "unknown_unit",
            format!("there is no unit {unit}"),
        ));
    }
    let reference = if row.reference.trim().is_empty() {
        None
    } else {
        let r = BankRef::parse("reference", &row.reference).map_err(|e| {
            refuse(
                "reference",
                "bad_reference",
                format!("reference {}", e.message),
            )
        })?;
        if cx.taken.contains(r.as_str()) {
            return Err(refuse(
                "reference",
                "duplicate_reference",
                format!("bank reference {r} is already recorded"),
            ));
        }
        if !seen.insert(r.as_str().to_string()) {
            return Err(refuse(
                "reference",
                "duplicate_in_file",
                format!("bank reference {r} appears earlier in this file"),
            ));
        }
        Some(r)
    };
    Ok(Payment {
        unit,
        amount,
        paid_on,
        method,
        reference,
    })
}

/// `2026-11-03`, `2026/11/03`, `2026.11.03` or `20261103`.
fn parse_date(cell: &str) -> Option<Date> {
    let cell = cell.trim();
    let iso = if cell.len() == 8 && cell.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &cell[0..4], &cell[4..6], &cell[6..8])
    } else {
        cell.replace(['/', '.'], "-")
    };
    Date::parse("date", &iso).ok()
}

/// The Chinese text for a row refusal code.
pub fn refusal_zh(code: &str) -> &'static str {
    match code {
        "formula" => "单元格看起来像电子表格公式，已拒绝",
        "missing_field" => "缺少必填内容",
        "bad_method" => "缴费方式不正确（银行/微信/支付宝/现金/其他）",
        "bad_date" => "日期格式不正确（例如 2026-11-03）",
        "future_date" => "日期在未来",
        "outside_period" => "日期不在所选月份内",
        "unknown_unit" => "没有这个房号",
        "bad_reference" => "流水号格式不正确",
        "duplicate_reference" => "该银行流水号已经记录过",
        "duplicate_in_file" => "该银行流水号在本文件中重复出现",
        code::NEGATIVE => "金额不能为负数",
        code::ZERO => "金额必须大于零",
        code::TOO_MANY_DECIMALS => "金额最多两位小数",
        code::NOT_A_NUMBER => "金额不是有效的数字",
        code::TOO_LONG => "内容过长",
        _ => "金额不正确",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cx_check(text: &str) -> Vec<Checked> {
        let rows = read(text.as_bytes(), Encoding::Utf8).unwrap();
        let taken: BTreeSet<String> = ["OLD1".to_string()].into();
        let is_unit = |u: &UnitId| u.as_str().starts_with("1-10");
        let cx = Context {
            period: Period::parse("p", "2026-11").unwrap(),
            today: Date::parse("d", "2026-11-20").unwrap(),
            is_unit: &is_unit,
            taken: &taken,
        };
        check(&rows, &cx)
    }

    fn codes(text: &str) -> Vec<&'static str> {
        cx_check(text)
            .iter()
            .map(|c| match &c.verdict {
                Ok(_) => "taken",
                Err(r) => r.code,
            })
            .collect()
    }

    #[test]
    fn every_row_gets_its_verdict() {
        let csv = "日期,金额,房号,流水号,摘要\r\n\
            2026-11-03,160.00,1-101,R1,十一月\r\n\
            2026-11-03,160.00,9-999,R2,\r\n\
            2026-11-03,-5.00,1-102,R3,\r\n\
            2026-11-03,0,1-102,R4,\r\n\
            2026-11-03,1.005,1-102,R5,\r\n\
            2026-11-03,abc,1-102,R6,\r\n\
            2026-11-03,,1-102,R7,\r\n\
            2026-11-03,10.00,1-102,OLD1,\r\n\
            2026-11-03,10.00,1-102,R1,\r\n\
            2026-10-31,10.00,1-102,R8,\r\n\
            2026-11-25,10.00,1-102,R9,\r\n\
            2026-13-01,10.00,1-102,R10,\r\n\
            2026-11-03,10.00,\"=HYPERLINK(\"\"http://x\"\")\",R11,\r\n\
            2026/11/04,20.5,1-103,R12,\"a, \"\"quoted\"\"\nmemo\"\r\n";
        assert_eq!(
            codes(csv),
            [
                "taken",
                "unknown_unit",
                "negative",
                "zero",
                "too_many_decimals",
                "not_a_number",
                "missing_field",
                "duplicate_reference",
                "duplicate_in_file",
                "outside_period",
                "future_date",
                "bad_date",
                "formula",
                "taken",
            ]
        );
        let last = cx_check(csv).pop().unwrap();
        assert_eq!(last.row.line, 15);
        let p = last.verdict.unwrap();
        assert_eq!(p.amount.to_string(), "20.50");
        assert_eq!(p.method, PayMethod::Bank);
    }

    #[test]
    fn english_headers_any_order_and_methods() {
        let csv = "Reference,Unit,Amount,Date,Method\n,1-101,5,2026-11-02,cash\nX1,1-101,5,2026-11-02,\n,1-101,5,2026-11-02,bank\n,1-101,5,2026-11-02,gold\n";
        assert_eq!(
            codes(csv),
            ["taken", "taken", "missing_field", "bad_method"]
        );
    }

    #[test]
    fn whole_file_refusals() {
        let r = |b: &[u8]| read(b, Encoding::Utf8).err();
        assert_eq!(r(b""), Some(FileError::Empty));
        assert_eq!(r(b"\xef\xbb\xbf \r\n"), Some(FileError::Empty));
        assert_eq!(
            r("日期,金额,房号,流水号\n".as_bytes()),
            Some(FileError::Empty)
        );
        assert_eq!(r(b"date,amount\x00"), Some(FileError::Binary));
        assert_eq!(
            r("日期,金额\n2026-11-01,1\n".as_bytes()),
            Some(FileError::MissingColumns(vec!["unit", "reference"]))
        );
        assert_eq!(
            r(b"date,amount,unit,reference\n\"open,1,1-101,R\n"),
            Some(FileError::BadQuoting { line: 2 })
        );
        let gbk = encoding_rs::GBK
            .encode("日期,金额,房号,流水号\n2026-11-01,1,1-101,R\n")
            .0;
        assert_eq!(r(&gbk), Some(FileError::NotUtf8 { line: 1 }));
        assert!(read(&gbk, Encoding::Gb18030).is_ok());
        let mut big = String::from("date,amount,unit,reference\n");
        for i in 0..=MAX_ROWS {
            big.push_str(&format!("2026-11-01,1,1-101,R{i}\n"));
        }
        assert_eq!(r(big.as_bytes()), Some(FileError::TooManyRows));
        assert_eq!(
            r(&vec![b'a'; MAX_FILE_BYTES + 1]),
            Some(FileError::TooLarge)
        );
        assert!(FileError::NotUtf8 { line: 1 }
            .message_en()
            .contains("GB18030"));
    }

    #[test]
    fn formula_prefixes() {
        for p in ["=1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(looks_like_formula(p), "{p:?}");
        }
        assert!(!looks_like_formula("1-101"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            for enc in [Encoding::Utf8, Encoding::Gb18030] {
                if let Ok(rows) = read(&bytes, enc) {
                    let taken = BTreeSet::new();
                    let is_unit = |_: &UnitId| true;
                    let cx = Context {
                        period: Period::parse("p", "2026-11").unwrap(),
                        today: Date::parse("d", "2026-11-20").unwrap(),
                        is_unit: &is_unit,
                        taken: &taken,
                    };
                    let _ = check(&rows, &cx);
                }
            }
        }

        #[test]
        fn arbitrary_text_with_a_header_never_panics(body in "[-,\"\r\n=+@a-z0-9.\t ]{0,300}") {
            let text = format!("date,amount,unit,reference,method\n{body}");
            let _ = read(text.as_bytes(), Encoding::Utf8);
        }
    }
}
