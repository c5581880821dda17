// data/sprites.hpp — a folder of sprite files as cropped RGB images, in a
// stable order, ready for data/quantize.hpp.
//
// Files are taken in natural order (digits compared as numbers: 2.gif before
// 10.gif), so image i of the dataset is the i-th sprite a person would count,
// and the same folder always gives the same rows. Subfolders are not entered
// (the animated sprites keep back/, shiny/ and female/ variants there). A
// file that is not a readable PNG or GIF is skipped and reported with the
// reason, not fatal: one stray README must not cost a run over thousands of
// sprites. A folder with no readable image at all is an error.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "../error.hpp"
#include "../io/image.hpp"
#include "crop.hpp"

namespace deepgen {
namespace data {

/// Cropped sprites and where they came from.
struct SpriteSet {
  std::vector<std::string> files;      ///< path of images[i]
  std::vector<io::RgbImage> images;    ///< size × size, composited on white
  std::vector<std::string> skipped;    ///< "path: why" for every file that could not be used
};

/// True when `a` sorts before `b` with runs of digits compared as numbers.
inline bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      // Compare the numbers without converting (they may be long): strip leading zeros.
      size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int c = a.compare(is, ie - is, b, js, je - js);
      if (c != 0) return c < 0;
      i = ie, j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
    }
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;  // equal up to leading zeros: any fixed order will do
}

/// Every PNG/GIF file directly in `dir`, in natural order, loaded and cropped
/// by `mode` to size × size. Throws deepgen::Error when `dir` is not a
/// readable folder or holds no usable image (the message lists why files
/// were skipped).
inline SpriteSet load_sprites(const std::string& dir, Crop mode, int size) {
  detail::check_target_size(size, "load_sprites");
  namespace fs = std::filesystem;
  std::error_code ec;
  DEEPGEN_CHECK(fs::is_directory(dir, ec), "load_sprites: '", dir,
                "' is not a folder; pass the folder that holds the sprite files (PNG or GIF)");
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
  DEEPGEN_CHECK(!ec, "load_sprites: cannot list '", dir, "': ", ec.message());
  std::sort(names.begin(), names.end(), natural_less);

  SpriteSet set;
  for (const auto& name : names) {
    const std::string path = (fs::path(dir) / name).string();
    try {
      set.images.push_back(crop(io::load_image(path), mode, size));
      set.files.push_back(path);
    } catch (const Error& e) {
      set.skipped.push_back(e.what());
    }
  }
  if (set.images.empty()) {
    std::string why;
    for (size_t i = 0; i < set.skipped.size() && i < 5; ++i) why += "\n  " + set.skipped[i];
    if (set.skipped.size() > 5) why += deepgen::detail::str("\n  … and ", set.skipped.size() - 5, " more");
    throw Error(deepgen::detail::str("load_sprites: '", dir, "' holds no PNG or GIF image (",
                                     names.size(), names.size() == 1 ? " file" : " files",
                                     names.empty() ? "" : ", none readable", ")", why));
  }
  return set;
}

}  // namespace data
}  // namespace deepgen
