//! The dashboard's bar chart: an SVG drawn on the server, no JavaScript.
//!
//! Each month has two stacked bars: income (fees collected, then each
//! kind of public income) and spending by category. Geometry is integer
//! arithmetic on fen, like everything else near money; the template only
//! places what is computed here, and escapes every label.

use super::pages::Texts;
use crate::domain::Period;
use crate::ledger::{Category, IncomeSource};

/// The SVG's own coordinate system; it scales to the page width.
pub const WIDTH: i64 = 400;
pub const HEIGHT: i64 = 230;
const LEFT: i64 = 46;
const RIGHT: i64 = 4;
const TOP: i64 = 10;
const BOTTOM: i64 = 22;
const MAX_TICKS: i64 = 5;

const FEES_COLOUR: &str = "#0b6e4f";
const SOURCE_COLOURS: [&str; 4] = ["#4ea8de", "#1d5f8a", "#8ecae6", "#90be6d"];
const CATEGORY_COLOURS: [&str; 10] = [
    "#e76f51", "#f4a261", "#e9c46a", "#a7c957", "#bc6c25", "#9d4edd", "#6d597a", "#b5838d",
    "#c1121f", "#adb5bd",
];

/// One month's bars, in fen.
pub struct MonthBars {
    pub period: Period,
    pub fees: i64,
    /// By [`IncomeSource::ALL`].
    pub public: [i64; 4],
    /// By [`Category::ALL`].
    pub spending: [i64; 10],
}

pub struct Rect {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub fill: &'static str,
    pub title: String,
}

pub struct Tick {
    pub y: i64,
    pub label: String,
}

pub struct Label {
    pub x: i64,
    pub text: String,
}

pub struct Legend {
    pub fill: &'static str,
    pub label: String,
    pub income: bool,
}

pub struct Chart {
    pub width: i64,
    pub height: i64,
    pub left: i64,
    pub right: i64,
    pub baseline: i64,
    pub rects: Vec<Rect>,
    pub ticks: Vec<Tick>,
    pub labels: Vec<Label>,
    pub legend: Vec<Legend>,
}

/// The axis: a round step (1, 2, 2.5 or 5 times a power of ten, in fen)
/// and how many steps reach `max`, at most [`MAX_TICKS`].
fn axis(max: i64) -> (i64, i64) {
    let max = max.max(1);
    let mut p: i64 = 1;
    loop {
        for (num, den) in [(1, 1), (2, 1), (5, 2), (5, 1)] {
            let step = p.saturating_mul(num) / den;
            if step == 0 {
                continue;
            }
            let n = (max + step - 1) / step;
            if n <= MAX_TICKS {
                return (step, n.max(1));
            }
        }
        if p > i64::MAX / 100 {
            return (max, 1);
        }
        p *= 10;
    }
}

/// `yuan / unit` with at most two decimals, trailing zeros dropped.
fn scaled(yuan: i64, unit: i64) -> String {
    let hundredths = yuan * 100 / unit;
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// Short axis labels: "12.5万" / "125k".
fn compact(fen: i64, t: &Texts) -> String {
    let yuan = fen / 100;
    if t.code == "zh" {
        if yuan >= 10_000 {
            format!("{}万", scaled(yuan, 10_000))
        } else {
            yuan.to_string()
        }
    } else if yuan >= 1_000_000 {
        format!("{}M", scaled(yuan, 1_000_000))
    } else if yuan >= 1_000 {
        format!("{}k", scaled(yuan, 1_000))
    } else {
        yuan.to_string()
    }
}

pub fn draw(months: &[MonthBars], t: &Texts) -> Chart {
    let income = |m: &MonthBars| m.fees.max(0) + m.public.iter().map(|v| (*v).max(0)).sum::<i64>();
    let spending = |m: &MonthBars| m.spending.iter().map(|v| (*v).max(0)).sum::<i64>();
    let max = months
        .iter()
        .map(|m| income(m).max(spending(m)))
        .max()
        .unwrap_or(0);
    let (step, ticks) = axis(max);
    let top = step * ticks;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let baseline = HEIGHT - BOTTOM;
    let y_of = |fen: i64| -> i64 {
        baseline
            - i64::try_from(i128::from(fen) * i128::from(plot_h) / i128::from(top)).unwrap_or(0)
    };
    let n = i64::try_from(months.len()).unwrap_or(1).max(1);
    let group = (WIDTH - LEFT - RIGHT) / n;
    let bar = (group * 2 / 5).max(1);
    let gap = (group - 2 * bar) / 3;

    let mut rects = Vec::new();
    let mut labels = Vec::new();
    for (i, m) in months.iter().enumerate() {
        let x0 = LEFT + i64::try_from(i).unwrap_or(0) * group;
        let mut stack = |x: i64, parts: Vec<(i64, &'static str, String)>| {
            let mut cum = 0;
            for (v, fill, what) in parts {
                if v <= 0 {
                    continue;
                }
                let (y_hi, y_lo) = (y_of(cum + v), y_of(cum));
                cum += v;
                rects.push(Rect {
                    x,
                    y: y_hi,
                    w: bar,
                    h: (y_lo - y_hi).max(1),
                    fill,
                    title: format!("{} {what} {}", m.period, super::pages::cny(v)),
                });
            }
        };
        let mut inc = vec![(m.fees, FEES_COLOUR, t.fees_collected.to_string())];
        for (k, s) in IncomeSource::ALL.iter().enumerate() {
            inc.push((m.public[k], SOURCE_COLOURS[k], t.source(*s).to_string()));
        }
        stack(x0 + gap, inc);
        let spend = Category::ALL
            .iter()
            .enumerate()
            .map(|(k, c)| {
                (
                    m.spending[k],
                    CATEGORY_COLOURS[k],
                    t.category(*c).to_string(),
                )
            })
            .collect();
        stack(x0 + 2 * gap + bar, spend);
        labels.push(Label {
            x: x0 + group / 2,
            text: t.month_short(m.period).to_string(),
        });
    }
    let ticks = (0..=ticks)
        .map(|k| Tick {
            y: y_of(step * k),
            label: compact(step * k, t),
        })
        .collect();
    let mut legend = vec![Legend {
        fill: FEES_COLOUR,
        label: t.fees_collected.to_string(),
        income: true,
    }];
    for (k, s) in IncomeSource::ALL.iter().enumerate() {
        if months.iter().any(|m| m.public[k] > 0) {
            legend.push(Legend {
                fill: SOURCE_COLOURS[k],
                label: t.source(*s).to_string(),
                income: true,
            });
        }
    }
    for (k, c) in Category::ALL.iter().enumerate() {
        if months.iter().any(|m| m.spending[k] > 0) {
            legend.push(Legend {
                fill: CATEGORY_COLOURS[k],
                label: t.category(*c).to_string(),
                income: false,
            });
        }
    }
    Chart {
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        right: WIDTH - RIGHT,
        baseline,
        rects,
        ticks,
        labels,
        legend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round_and_tight() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(7), (2, 4));
        // ¥118,000.00: five steps of ¥25,000.00.
        assert_eq!(axis(11_800_000), (2_500_000, 5));
        assert_eq!(axis(10_000_000), (2_000_000, 5));
    }

    #[test]
    fn labels_are_short() {
        let (zh, en) = (&super::super::texts::ZH, &super::super::texts::EN);
        assert_eq!(compact(12_500_000, zh), "12.5万");
        assert_eq!(compact(250_000, en), "2.5k");
        assert_eq!(compact(125_000_000, en), "1.25M");
        assert_eq!(compact(0, en), "0");
    }

    #[test]
    fn bars_fit_the_plot() {
        let p = Period::parse("p", "2026-05").unwrap();
        let months = vec![MonthBars {
            period: p,
            fees: 10_000_000,
            public: [600_000, 1_200_000, 0, 0],
            spending: [
                0, 1_800_000, 2_400_000, 0, 900_000, 640_000, 0, 0, 90_000, 0,
            ],
        }];
        let c = draw(&months, &super::super::texts::ZH);
        assert!(c
            .rects
            .iter()
            .all(|r| r.y >= TOP && r.y + r.h <= c.baseline + 1));
        assert_eq!(c.labels[0].text, "5月");
        assert_eq!(c.ticks.last().map(|t| t.label.as_str()), Some("12.5万"));
    }
}
