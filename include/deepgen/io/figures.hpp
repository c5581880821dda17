// io/figures.hpp — pictures for the docs and the examples, drawn on an
// io/rgb_image.hpp canvas: palette images upscaled by nearest neighbour,
// labelled grids, text and small line plots. io/png.hpp writes them out.
//
// Text uses stb_easy_font's segment glyphs (Debian libstb-dev), rasterised as
// filled rectangles: legible at 1x, crisp at any integer scale, and no font
// file to ship.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../palette.hpp"
#include "rgb_image.hpp"

#include "../detail/stb_begin.hpp"
#include <stb/stb_easy_font.h>
#include "../detail/stb_end.hpp"

namespace deepgen {
namespace io {

// ---- text ------------------------------------------------------------------

/// Height in pixels of one line of text at `scale` (glyph cells, descenders included).
inline int text_height(int scale = 1) { return 10 * std::max(scale, 1); }

namespace detail {
// stb_easy_font indexes a table by (char - 32) for 32..126 only.
inline std::string printable(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c < 32 || c > 126) c = '?';
  return out;
}
}  // namespace detail

/// Width in pixels of `text` drawn on one line at `scale`.
inline int text_width(const std::string& text, int scale = 1) {
  std::string s = detail::printable(text);
  return stb_easy_font_width(&s[0]) * std::max(scale, 1);
}

/// Draws one line of `text` with its top-left corner at (x, y), each font pixel
/// a scale × scale block, clipped to the canvas. Characters outside printable
/// ASCII are drawn as '?'.
inline void draw_text(RgbImage& img, int x, int y, const std::string& text, Rgb colour = INK,
                      int scale = 1) {
  if (text.empty()) return;
  scale = std::max(scale, 1);
  std::string s = detail::printable(text);
  // stb writes 16-byte vertices (x, y, z as float, then 4 colour bytes), 4 per quad.
  std::vector<float> vbuf(s.size() * 160 + 64);  // stb truncates rather than overflow
  const int vbytes = int(vbuf.size() * sizeof(float));
  const int quads = stb_easy_font_print(0.f, 0.f, &s[0], nullptr, vbuf.data(), vbytes);
  for (int q = 0; q < quads; ++q) {
    const float* v = vbuf.data() + size_t(q) * 16;  // 4 vertices × 4 floats
    const int x0 = int(std::lround(std::min(v[0], v[8]))), x1 = int(std::lround(std::max(v[0], v[8])));
    const int y0 = int(std::lround(std::min(v[1], v[9]))), y1 = int(std::lround(std::max(v[1], v[9])));
    img.fill_rect(x + x0 * scale, y + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale, colour);
  }
}

// ---- palette images ----------------------------------------------------------

/// What render_palette_image does with index < 0.
enum class Hidden {
  reject,  ///< throw: every pixel must be a palette colour
  grey     ///< draw HIDDEN_GREY: the part of a completion the model did not see
};

/// A side × side palette-indexed image as RGB, each pixel a scale × scale block.
/// Throws on an index >= palette.size(), and on index < 0 unless `hidden` is Hidden::grey.
inline RgbImage render_palette_image(const int32_t* indices, int side, const Palette& palette,
                                     int scale = 1, Hidden hidden = Hidden::reject) {
  DEEPGEN_CHECK(indices != nullptr || side == 0, "render_palette_image: indices is null");
  DEEPGEN_CHECK(side >= 0, "render_palette_image: side is ", side, "; it must be >= 0");
  DEEPGEN_CHECK(scale >= 1, "render_palette_image: scale is ", scale, "; it must be >= 1");
  RgbImage img(side * scale, side * scale);
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      const int32_t k = indices[y * side + x];
      Rgb c;
      if (k < 0) {
        DEEPGEN_CHECK(hidden == Hidden::grey, "render_palette_image: pixel (", x, ", ", y,
                      ") has index ", k, "; pass Hidden::grey to draw hidden pixels in grey");
        c = HIDDEN_GREY;
      } else {
        DEEPGEN_CHECK(k < palette.size(), "render_palette_image: pixel (", x, ", ", y, ") has index ", k,
                      " but the palette has ", palette.size(), " colours (0..", palette.size() - 1, ")");
        c = palette.rgb[size_t(k)];
      }
      img.fill_rect(x * scale, y * scale, scale, scale, c);
    }
  }
  return img;
}

/// Image i of `set` rendered with `palette` (see render_palette_image).
inline RgbImage render_image(const ImageSet& set, int64_t i, const Palette& palette,
                             int scale = 1) {
  return render_palette_image(set.image(i), int(set.side), palette, scale);
}

// ---- grids -------------------------------------------------------------------

/// Lays equal-sized `cells` out left to right, top to bottom, `columns` to a row,
/// with `separator_px` lines of `separator` between and around them. With
/// `row_labels` (one per row), each row gets its label on the left, in a white
/// margin, at a text size that follows the cell height.
inline RgbImage grid(const std::vector<RgbImage>& cells, int columns, int separator_px = 1,
                     Rgb separator = LIGHT_GREY, const std::vector<std::string>& row_labels = {}) {
  DEEPGEN_CHECK(!cells.empty(), "grid: no cells to lay out");
  DEEPGEN_CHECK(columns >= 1, "grid: columns is ", columns, "; it must be >= 1");
  DEEPGEN_CHECK(separator_px >= 0, "grid: separator_px is ", separator_px, "; it must be >= 0");
  const int cw = cells[0].width, ch = cells[0].height;
  for (size_t i = 0; i < cells.size(); ++i)
    DEEPGEN_CHECK(cells[i].width == cw && cells[i].height == ch, "grid: cell ", i, " is ",
                  cells[i].width, "x", cells[i].height, " but cell 0 is ", cw, "x", ch,
                  "; all cells must have the same size");
  const int n = int(cells.size());
  const int cols = std::min(columns, n);
  const int rows = (n + cols - 1) / cols;
  DEEPGEN_CHECK(row_labels.empty() || int(row_labels.size()) == rows, "grid: ", row_labels.size(),
                " row labels for ", rows, " rows (", n, " cells, ", cols,
                " columns); give one label per row or none");

  const int text_scale = std::max(1, std::min(4, ch / 32));
  const int pad = 3 * text_scale;
  int label_w = 0;
  for (const auto& l : row_labels) label_w = std::max(label_w, text_width(l, text_scale));
  if (!row_labels.empty()) label_w += 2 * pad;

  const int sep = separator_px;
  RgbImage out(label_w + sep + cols * (cw + sep), sep + rows * (ch + sep), separator);
  out.fill_rect(0, 0, label_w, out.height, WHITE);
  for (int i = 0; i < n; ++i)
    out.blit(cells[size_t(i)], label_w + sep + (i % cols) * (cw + sep), sep + (i / cols) * (ch + sep));
  for (int r = 0; r < int(row_labels.size()); ++r) {
    const int y = sep + r * (ch + sep) + (ch - text_height(text_scale)) / 2 + text_scale;
    draw_text(out, pad, y, row_labels[size_t(r)], INK, text_scale);
  }
  return out;
}

// ---- line plots -----------------------------------------------------------------

/// One curve of a plot: (x, y) points drawn in order, and its legend entry.
struct Series {
  std::string name;  ///< the legend entry
  std::vector<std::pair<double, double>> points;  ///< (x, y), drawn in order
};

namespace detail {

// 1, 2 or 5 times a power of ten, near range / 5: ticks people can read.
inline double nice_step(double range) {
  const double raw = range / 5.0;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

inline std::string tick_label(double v, double step) {
  const int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-6 ? 0.0 : v);
  return buf;
}

// A 2-pixel-wide line from (x0, y0) to (x1, y1), Bresenham, clipped to `clip`
// = {left, top, right, bottom} (inclusive).
inline void draw_line(RgbImage& img, int x0, int y0, int x1, int y1, Rgb c, const std::array<int, 4>& clip) {
  auto plot = [&](int x, int y) {
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) {
        const int px = x + dx, py = y + dy;
        if (px >= clip[0] && px <= clip[2] && py >= clip[1] && py <= clip[3]) img.set_clipped(px, py, c);
      }
  };
  const int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
  const int dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int e = dx + dy;
  for (;;) {
    plot(x0, y0);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * e;
    if (e2 >= dy) { e += dy; x0 += sx; }
    if (e2 <= dx) { e += dx; y0 += sy; }
  }
}

}  // namespace detail

/// A small line chart: axes with "nice" ticks and grid lines, one coloured
/// line per series, a legend (top right) and a title. Non-finite points are
/// skipped. Meant for learning curves in the docs (e.g. TEST NLL vs minutes),
/// not for publication typography.
inline RgbImage plot_curves(const std::vector<Series>& series, int width, int height,
                            const std::string& title, const std::string& x_label = "",
                            const std::string& y_label = "") {
  DEEPGEN_CHECK(width >= 160 && height >= 120, "plot_curves: a ", width, "x", height,
                " plot is too small for axes and labels; use at least 160x120");
  static const Rgb colours[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                {188, 189, 34}, {23, 190, 207}};
  const int ts = height >= 600 && width >= 800 ? 2 : 1;  // text scale
  const int th = text_height(ts);

  // Data range, then widened to whole tick steps.
  const double inf = std::numeric_limits<double>::infinity();
  double xmin = inf, xmax = -inf, ymin = inf, ymax = -inf;
  for (const auto& s : series)
    for (const auto& p : s.points)
      if (std::isfinite(p.first) && std::isfinite(p.second)) {
        xmin = std::min(xmin, p.first), xmax = std::max(xmax, p.first);
        ymin = std::min(ymin, p.second), ymax = std::max(ymax, p.second);
      }
  if (!(xmin <= xmax)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  if (xmax - xmin <= 0) xmin -= 0.5, xmax += 0.5;
  if (ymax - ymin <= 0) ymin -= 0.5, ymax += 0.5;
  const double xstep = detail::nice_step(xmax - xmin), ystep = detail::nice_step(ymax - ymin);
  xmin = std::floor(xmin / xstep + 1e-9) * xstep, xmax = std::ceil(xmax / xstep - 1e-9) * xstep;
  ymin = std::floor(ymin / ystep + 1e-9) * ystep, ymax = std::ceil(ymax / ystep - 1e-9) * ystep;

  std::vector<double> yticks, xticks;
  for (double v = ymin; v <= ymax + ystep * 1e-6; v += ystep) yticks.push_back(v);
  for (double v = xmin; v <= xmax + xstep * 1e-6; v += xstep) xticks.push_back(v);
  int ylabel_w = 0;
  for (double v : yticks) ylabel_w = std::max(ylabel_w, text_width(detail::tick_label(v, ystep), ts));

  // Plot area [left, right] × [top, bottom] in pixels.
  const int left = ylabel_w + 10 * ts;
  const int right = width - 16 * ts;
  const int top = th + 8 * ts + (y_label.empty() ? 0 : th + 4 * ts);
  const int bottom = height - (th + 10 * ts) - (x_label.empty() ? 0 : th + 4 * ts);
  DEEPGEN_CHECK(right - left >= 20 && bottom - top >= 20, "plot_curves: a ", width, "x", height,
                " plot leaves no room for the data next to the labels; make it larger");
  auto px = [&](double x) { return left + int(std::lround((x - xmin) / (xmax - xmin) * (right - left))); };
  auto py = [&](double y) { return bottom - int(std::lround((y - ymin) / (ymax - ymin) * (bottom - top))); };

  RgbImage img(width, height, WHITE);
  draw_text(img, (width - text_width(title, ts)) / 2, 3 * ts, title, INK, ts);
  if (!y_label.empty()) draw_text(img, 4 * ts, th + 8 * ts, y_label, INK, ts);
  if (!x_label.empty())
    draw_text(img, left + (right - left - text_width(x_label, ts)) / 2, height - th - 3 * ts, x_label, INK, ts);

  const Rgb grid_c{230, 230, 230};
  for (double v : yticks) {
    const int y = py(v);
    img.fill_rect(left, y, right - left + 1, 1, grid_c);
    img.fill_rect(left - 4 * ts, y, 4 * ts, 1, INK);
    const std::string s = detail::tick_label(v, ystep);
    draw_text(img, left - 6 * ts - text_width(s, ts), y - th / 2 + ts, s, INK, ts);
  }
  for (double v : xticks) {
    const int x = px(v);
    img.fill_rect(x, top, 1, bottom - top + 1, grid_c);
    img.fill_rect(x, bottom + 1, 1, 4 * ts, INK);
    const std::string s = detail::tick_label(v, xstep);
    draw_text(img, x - text_width(s, ts) / 2, bottom + 6 * ts, s, INK, ts);
  }
  img.fill_rect(left, top, 1, bottom - top + 1, INK);        // y axis
  img.fill_rect(left, bottom, right - left + 1, 1, INK);     // x axis

  const std::array<int, 4> clip{left, top, right, bottom};
  for (size_t si = 0; si < series.size(); ++si) {
    const Rgb c = colours[si % (sizeof colours / sizeof colours[0])];
    bool have_prev = false;
    int x0 = 0, y0 = 0;
    for (const auto& p : series[si].points) {
      if (!std::isfinite(p.first) || !std::isfinite(p.second)) {
        have_prev = false;  // a gap, not a line through the missing value
        continue;
      }
      const int x1 = px(p.first), y1 = py(p.second);
      if (have_prev) detail::draw_line(img, x0, y0, x1, y1, c, clip);
      if (series[si].points.size() <= 40)
        for (int dy = -ts - 1; dy <= ts; ++dy)
          for (int dx = -ts - 1; dx <= ts; ++dx) img.set_clipped(x1 + dx + 1, y1 + dy + 1, c);
      x0 = x1, y0 = y1, have_prev = true;
    }
  }

  // Legend, top right inside the plot area.
  int legend_w = 0;
  for (const auto& s : series) legend_w = std::max(legend_w, text_width(s.name, ts));
  if (!series.empty() && legend_w > 0) {
    const int row_h = th + 2 * ts, swatch = 12 * ts;
    const int box_w = legend_w + swatch + 12 * ts, box_h = int(series.size()) * row_h + 6 * ts;
    const int bx = right - box_w - 4 * ts, by = top + 4 * ts;
    img.fill_rect(bx, by, box_w, box_h, LIGHT_GREY);
    img.fill_rect(bx + 1, by + 1, box_w - 2, box_h - 2, WHITE);
    for (size_t si = 0; si < series.size(); ++si) {
      const int y = by + 3 * ts + int(si) * row_h;
      img.fill_rect(bx + 4 * ts, y + th / 2 - ts, swatch, 2 * ts,
                    colours[si % (sizeof colours / sizeof colours[0])]);
      draw_text(img, bx + 8 * ts + swatch, y + ts, series[si].name, INK, ts);
    }
  }
  return img;
}

}  // namespace io
}  // namespace deepgen
