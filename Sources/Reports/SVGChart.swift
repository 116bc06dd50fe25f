import Foundation

/// A small SVG plotting kit: scatter/line series on linear or log-x axes, with axis labels and
/// units, a legend, vertical reference lines and an "∞" band at the top for lossless points.
public struct Chart {
    public enum Marker: String { case circle, square, triangle, diamond }

    public struct Series {
        public var name: String
        public var color: String
        public var marker: Marker
        public var filled: Bool
        public var connect: Bool
        public var points: [(x: Double, y: Double)]
        /// Error bars: half-lengths in y (vertical) or x (horizontal) per point, drawn as `class="errorbar"` lines.
        public var yErrors: [Double]? = nil
        public var xErrors: [Double]? = nil
        /// Small dots without a legend entry (the single seeds behind a mean).
        public var dots = false
        /// Listed in the legend (off for the second and later seeds of a configuration's curves).
        public var inLegend = true
        public init(name: String, color: String, marker: Marker = .circle, filled: Bool = true, connect: Bool = false, points: [(x: Double, y: Double)],
                    yErrors: [Double]? = nil, xErrors: [Double]? = nil, dots: Bool = false) {
            self.name = name; self.color = color; self.marker = marker; self.filled = filled; self.connect = connect; self.points = points
            self.yErrors = yErrors; self.xErrors = xErrors; self.dots = dots
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX = false
    public var series: [Series] = []
    public var verticalLines: [(x: Double, label: String)] = []
    /// Category names for a dot plot: y = index of the category (drawn top to bottom).
    public var categories: [String]? = nil
    public var width = 760.0
    public var height = 440.0

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.logX = logX
    }

    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    // MARK: rendering

    public func svg() -> String {
        let legendSeries = series.filter { !$0.dots && $0.inLegend }
        var extents: [(x: Double, y: Double)] = []
        for se in series {
            for (i, p) in se.points.enumerated() {
                if let e = se.yErrors?[i], e.isFinite { extents += [(p.x, p.y - e), (p.x, p.y + e)] }
                if let e = se.xErrors?[i], e.isFinite { extents += [(p.x - e, p.y), (p.x + e, p.y)] }
            }
        }
        let finite = (series.flatMap(\.points) + extents).filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
        let hasInfinity = series.flatMap(\.points).contains { $0.y == .infinity }
        var xs = finite.map(\.x) + verticalLines.map(\.x).filter { !logX || $0 > 0 }
        for p in series.flatMap(\.points) where p.y == .infinity && p.x.isFinite { xs.append(p.x) }
        let ys = finite.map(\.y)
        let labelWidth = categories.map { c in min(340, 12 + 6.2 * Double(c.map(\.count).max() ?? 0)) } ?? 64
        let left = labelWidth + 16, right = 24.0, top = 40.0 + (hasInfinity ? 26 : 0), bottom = 56.0
        let legendWidth = legendSeries.isEmpty ? 0 : min(300, 40 + 6.3 * Double(legendSeries.map(\.name.count).max() ?? 0))
        let plotW = width - left - right - legendWidth, plotH = height - top - bottom

        // x scale
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        if logX {
            x0 = pow(10, floor(log10(max(x0, 1e-6)) * 2) / 2); x1 = pow(10, ceil(log10(max(x1, x0 * 1.01)) * 2) / 2)
        } else {
            let t = Self.niceTicks(x0, x1); x0 = t.first!; x1 = t.last!
        }
        func sx(_ x: Double) -> Double {
            logX ? left + (log10(x) - log10(x0)) / (log10(x1) - log10(x0)) * plotW : left + (x - x0) / (x1 - x0) * plotW
        }
        // y scale
        var yTicks: [Double]
        let (y0, y1): (Double, Double)
        if let cats = categories {
            y0 = -0.5; y1 = Double(cats.count) - 0.5; yTicks = []
        } else {
            yTicks = Self.niceTicks(ys.min() ?? 0, ys.max() ?? 1)
            (y0, y1) = (yTicks.first!, yTicks.last!)
        }
        func sy(_ y: Double) -> Double {
            if y == .infinity { return top - 16 }
            if categories != nil { return top + (y - y0) / (y1 - y0) * plotH }   // first category on top
            return top + plotH - (y - y0) / (y1 - y0) * plotH
        }

        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="20" text-anchor="middle" font-size="15" font-weight="bold">\(esc(title))</text>

        """
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        // x ticks and grid
        for t in (logX ? Self.logTicks(x0, x1) : Self.niceTicks(x0, x1)) {
            let x = sx(t)
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(Self.tickLabel(t))</text>\n"
        }
        // y ticks / categories
        if let cats = categories {
            for (i, c) in cats.enumerated() {
                let y = sy(Double(i))
                s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#eeeeee\"/>\n"
                s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\">\(esc(c))</text>\n"
            }
        } else {
            for t in yTicks {
                let y = sy(t)
                s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>\n"
                s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.tickLabel(t))</text>\n"
            }
            s += "<text transform=\"translate(16,\(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>\n"
        }
        if hasInfinity {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(top - 16))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top - 16))\" stroke=\"#bbbbbb\" stroke-dasharray=\"2,3\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(top - 12))\" text-anchor=\"end\">∞</text>\n"
        }
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(esc(xLabel))</text>\n"
        // reference lines
        for (i, v) in verticalLines.enumerated() where (!logX || v.x > 0) {
            let x = sx(v.x)
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top - (hasInfinity ? 24 : 0)))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"#444\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>\n"
            s += "<text x=\"\(f(x + 4))\" y=\"\(f(top + plotH - 8 - 14 * Double(i)))\" font-size=\"11\" fill=\"#222\">\(esc(v.label))</text>\n"
        }
        // series
        for se in series {
            let pts = se.points.filter { (!logX || $0.x > 0) && $0.x.isFinite && ($0.y.isFinite || $0.y == .infinity) }
            if se.connect && pts.count > 1 {
                let path = pts.filter { $0.y.isFinite }.map { "\(f(sx($0.x))),\(f(sy($0.y)))" }.joined(separator: " ")
                s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(se.color)\" stroke-width=\"1.6\" opacity=\"0.8\"/>\n"
            }
            for (i, p) in se.points.enumerated() where (!logX || p.x > 0) && p.x.isFinite && p.y.isFinite {
                if let e = se.yErrors?[i], e.isFinite, e > 0 {
                    let (x, a, b) = (sx(p.x), sy(p.y - e), sy(p.y + e))
                    s += "<path class=\"errorbar\" d=\"M\(f(x)),\(f(a)) V\(f(b)) M\(f(x - 4)),\(f(a)) H\(f(x + 4)) M\(f(x - 4)),\(f(b)) H\(f(x + 4))\" stroke=\"\(se.color)\" stroke-width=\"1.3\" fill=\"none\"/>\n"
                }
                if let e = se.xErrors?[i], e.isFinite, e > 0, !logX || p.x - e > 0 {
                    let (y, a, b) = (sy(p.y), sx(p.x - e), sx(p.x + e))
                    s += "<path class=\"errorbar\" d=\"M\(f(a)),\(f(y)) H\(f(b)) M\(f(a)),\(f(y - 4)) V\(f(y + 4)) M\(f(b)),\(f(y - 4)) V\(f(y + 4))\" stroke=\"\(se.color)\" stroke-width=\"1.3\" fill=\"none\"/>\n"
                }
            }
            if se.dots {
                for p in pts { s += "<circle class=\"seed\" cx=\"\(f(sx(p.x)))\" cy=\"\(f(sy(p.y)))\" r=\"2\" fill=\"\(se.color)\" opacity=\"0.55\"/>\n" }
            } else if !se.connect || pts.count <= 60 {
                for p in pts { s += marker(se.marker, sx(p.x), sy(p.y), se.color, se.filled) }
            }
        }
        // legend
        if !legendSeries.isEmpty {
            let lx = width - legendWidth - right + 14
            var ly = top + 8
            for se in legendSeries {
                if se.connect { s += "<line x1=\"\(f(lx - 6))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 6))\" y2=\"\(f(ly))\" stroke=\"\(se.color)\" stroke-width=\"2\"/>\n" }
                s += marker(se.marker, lx, ly, se.color, se.filled)
                s += "<text x=\"\(f(lx + 12))\" y=\"\(f(ly + 4))\" font-size=\"11\">\(esc(se.name))</text>\n"
                ly += 18
            }
        }
        return s + "</svg>\n"
    }

    func marker(_ m: Marker, _ x: Double, _ y: Double, _ color: String, _ filled: Bool) -> String {
        let fill = filled ? color : "white", r = 4.5
        let style = "fill=\"\(fill)\" stroke=\"\(color)\" stroke-width=\"1.6\""
        switch m {
        case .circle: return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(r)\" \(style)/>\n"
        case .square: return "<rect x=\"\(f(x - r))\" y=\"\(f(y - r))\" width=\"\(f(2 * r))\" height=\"\(f(2 * r))\" \(style)/>\n"
        case .triangle: return "<polygon points=\"\(f(x)),\(f(y - r - 1)) \(f(x - r - 1)),\(f(y + r)) \(f(x + r + 1)),\(f(y + r))\" \(style)/>\n"
        case .diamond: return "<polygon points=\"\(f(x)),\(f(y - r - 1)) \(f(x - r - 1)),\(f(y)) \(f(x)),\(f(y + r + 1)) \(f(x + r + 1)),\(f(y))\" \(style)/>\n"
        }
    }

    // MARK: ticks

    /// 1–2–5 ticks covering [a, b], about 5–8 of them.
    static func niceTicks(_ a: Double, _ b: Double) -> [Double] {
        var lo = a, hi = b
        if !(hi > lo) { lo -= 1; hi += 1 }
        let raw = (hi - lo) / 6
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        let start = floor(lo / step) * step, end = ceil(hi / step) * step
        return stride(from: start, through: end + step / 2, by: step).map { ($0 / step).rounded() * step }
    }

    /// 1–2–5 ticks per decade within [a, b].
    static func logTicks(_ a: Double, _ b: Double) -> [Double] {
        var out: [Double] = []
        var d = pow(10, floor(log10(a)))
        while d <= b * 1.0001 {
            for m in [1.0, 2, 5] where d * m >= a * 0.9999 && d * m <= b * 1.0001 { out.append(d * m) }
            d *= 10
        }
        return out
    }

    static func tickLabel(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e6 || abs(v) < 0.001 { return String(format: "%.0e", v) }
        if v == v.rounded() { return String(format: "%.0f", v) }
        var s = String(format: "%.3f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

func f(_ v: Double) -> String { String(format: "%.1f", v) }

/// HTML's three markup characters escaped (report.md text: quotes stay readable there).
func escapeMarkup(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}

/// Text for HTML and SVG, attribute values included.
func esc(_ s: String) -> String { escapeMarkup(s).replacingOccurrences(of: "\"", with: "&quot;") }
