// Tests for io/safetensors.hpp: round trips, the byte layout checked against
// files built by hand (so reader and writer cannot agree on a shared mistake),
// every kind of corrupt file, and atomic writes that never damage the previous
// checkpoint. Every test works in its own fresh temporary directory.
#include <deepgen/io/safetensors.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;
using deepgen::Shape;
using deepgen::Tensor;
namespace io = deepgen::io;

namespace {

// A fresh directory under the system temp dir, removed (with its contents) at scope exit.
struct ScratchDir {
  fs::path dir;
  ScratchDir() {
    static int serial = 0;
    std::random_device rd;
    dir = fs::temp_directory_path() /
          ("deepgen_safetensors_" + std::to_string(::getpid()) + "_" + std::to_string(serial++) +
           "_" + std::to_string(rd()));
    fs::create_directories(dir);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir, ec);
  }
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
  // Names of the directory's entries (to prove no temporary file was left behind).
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

// Little-endian encodings built with shifts, independent of the host and of the writer.
std::string le_u64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string le_f32(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  return s;
}
std::string le_f64(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  return s;
}
uint64_t decode_u64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// A whole file: length prefix, the header text exactly as given, then data.
std::string file_bytes(const std::string& header, const std::string& data) {
  return le_u64(header.size()) + header + data;
}

// Random values seeded from Catch's --rng-seed, plus the awkward ones a
// checkpoint must keep bit for bit: -0, the smallest subnormal, ±inf, NaN.
template <typename T>
Tensor<T> random_tensor(const Shape& shape, std::mt19937& rng) {
  Tensor<T> t(shape);
  std::normal_distribution<T> dist(T(0), T(3));
  const T special[] = {T(-0.0), std::numeric_limits<T>::denorm_min(),
                       std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(),
                       std::numeric_limits<T>::quiet_NaN()};
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = i < 5 && t.numel() > 20 ? special[i] : dist(rng);
  return t;
}

// Equal values, with NaN equal to NaN (a conversion keeps NaN but not its payload).
template <typename T>
bool same_value(T a, T b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

template <typename T>
bool bit_identical(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() &&
         (a.numel() == 0 ||  // data() may be null then, and memcmp must not see null
          std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(T)) == 0);
}

// A small valid F32 file written by hand: "a" [2,3] then "b" [4]. Its layout:
// 8 bytes length, header (padded to a multiple of 8), 24 + 16 bytes of data.
std::string valid_file(std::string* header_out = nullptr) {
  std::string header =
      R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("b":{"dtype":"F32","shape":[4],"data_offsets":[24,40]}})";
  while (header.size() % 8) header += ' ';
  std::string data;
  for (int i = 0; i < 10; ++i) data += le_f32(0.5f * static_cast<float>(i) - 1.0f);
  if (header_out) *header_out = header;
  return file_bytes(header, data);
}

// A file with one F32 tensor "t" whose header entry is `entry` and whose data is `data_bytes` long.
std::string one_entry_file(const std::string& entry, size_t data_bytes) {
  return file_bytes(R"({"t":)" + entry + "}", std::string(data_bytes, '\x01'));
}

}  // namespace

TEMPLATE_TEST_CASE("safetensors: round trip of ranks 0..4 and empty tensors is bit-identical",
                   "[io][safetensors]", float, double) {
  ScratchDir tmp;
  std::mt19937 rng(Catch::rngSeed());
  const std::vector<std::pair<std::string, Shape>> shapes = {
      {"scalar", Shape{}},           {"vec7", Shape{7}},           {"mat", Shape{3, 5}},
      {"cube", Shape{2, 3, 4}},      {"r4", Shape{2, 1, 3, 65}},   {"empty", Shape{0}},
      {"empty3", Shape{3, 0, 2}},    {"lstm.weight_ih_l0", Shape{8, 1}}};
  std::vector<Tensor<TestType>> owned;
  for (const auto& [name, shape] : shapes) owned.push_back(random_tensor<TestType>(shape, rng));
  std::vector<std::pair<std::string, const Tensor<TestType>*>> list;
  for (size_t i = 0; i < shapes.size(); ++i) list.emplace_back(shapes[i].first, &owned[i]);
  const std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"note", "Pok\xc3\xa9mon \"quoted\" \\ back"}, {"empty", ""}};

  const std::string path = tmp / "ckpt.safetensors";
  io::save_safetensors<TestType>(path, list, meta);
  REQUIRE(tmp.entries() == std::vector<std::string>{"ckpt.safetensors"});

  std::map<std::string, std::string> meta_back = {{"stale", "entry"}};
  const auto back = io::load_safetensors<TestType>(path, &meta_back);
  CHECK(meta_back == meta);
  REQUIRE(back.size() == shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    INFO("tensor " << shapes[i].first << " shape " << shapes[i].second);
    REQUIRE(back.count(shapes[i].first) == 1);
    const auto& t = back.at(shapes[i].first);
    CHECK(t.shape() == shapes[i].second);
    CHECK(t.rank() == shapes[i].second.rank());
    CHECK(bit_identical(t, owned[i]));
  }

  SECTION("saving what was loaded reproduces the file byte for byte") {
    const std::string again = tmp / "again.safetensors";
    io::save_safetensors(again, back, meta);
    CHECK(read_bytes(again) == read_bytes(path));
  }
  SECTION("no metadata: no __metadata__ key, and an empty map comes back") {
    const std::string plain = tmp / "plain.safetensors";
    io::save_safetensors<TestType>(plain, {{"x", &owned[1]}});
    const std::string bytes = read_bytes(plain);
    CHECK(bytes.find("__metadata__") == std::string::npos);
    std::map<std::string, std::string> m = {{"stale", "entry"}};
    const auto x = io::load_safetensors<TestType>(plain, &m);
    CHECK(m.empty());
    CHECK(bit_identical(x.at("x"), owned[1]));
  }
  SECTION("an empty checkpoint round-trips") {
    const std::string none = tmp / "none.safetensors";
    io::save_safetensors<TestType>(none, std::vector<std::pair<std::string, const Tensor<TestType>*>>{});
    CHECK(io::load_safetensors<TestType>(none).empty());
  }
}

TEST_CASE("safetensors: reads a file built by hand", "[io][safetensors]") {
  ScratchDir tmp;
  // Keys out of offset order, an F64 tensor, a scalar, an empty tensor, extra
  // whitespace, metadata, and trailing spaces as padding.
  std::string header = R"({ "w": {"dtype": "F64", "shape": [2], "data_offsets": [8, 24]},)"
                       R"( "s": {"shape": [], "dtype": "F32", "data_offsets": [24, 28]},)"
                       R"( "z": {"dtype": "F32", "shape": [0, 3], "data_offsets": [28, 28]},)"
                       R"( "__metadata__": {"epoch": "12"},)"
                       R"( "a": {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8]} }   )";
  const std::string data = le_f32(1.5f) + le_f32(-2.25f) + le_f64(3.0e300) + le_f64(-1.0 / 3.0) +
                           le_f32(7.0f);
  const std::string path = tmp / "hand.safetensors";
  write_bytes(path, file_bytes(header, data));

  std::map<std::string, std::string> meta;
  const auto d = io::load_safetensors<double>(path, &meta);
  CHECK(meta == std::map<std::string, std::string>{{"epoch", "12"}});
  REQUIRE(d.size() == 4);
  CHECK(d.at("a").shape() == Shape{2, 1});
  CHECK(d.at("a")[0] == 1.5);
  CHECK(d.at("a")[1] == -2.25);
  CHECK(d.at("w").shape() == Shape{2});
  CHECK(d.at("w")[0] == 3.0e300);
  CHECK(d.at("w")[1] == -1.0 / 3.0);
  CHECK(d.at("s").shape() == Shape{});
  CHECK(d.at("s").numel() == 1);
  CHECK(d.at("s")[0] == 7.0);
  CHECK(d.at("z").shape() == Shape{0, 3});
  CHECK(d.at("z").numel() == 0);

  const auto h = io::read_safetensors_header(path);
  CHECK(h.data_start == 8 + header.size());
  CHECK(h.data_size == data.size());
  CHECK(h.tensors.at("w").dtype == "F64");
  CHECK(h.tensors.at("w").begin == 8);
  CHECK(h.tensors.at("w").end == 24);
  CHECK(h.metadata.at("epoch") == "12");
}

TEST_CASE("safetensors: writer layout matches the format", "[io][safetensors]") {
  ScratchDir tmp;
  const Tensor<float> b(Shape{2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  const Tensor<float> a(Shape{3}, std::vector<float>{-1.0f, 0.25f, 1e-30f});
  const Tensor<float> s = Tensor<float>::scalar(42.0f);
  const Tensor<float> e(Shape{0, 4});
  const std::string path = tmp / "layout.safetensors";
  // Given out of name order: the data buffer holds them in name order.
  io::save_safetensors<float>(path, {{"b", &b}, {"s", &s}, {"a", &a}, {"e", &e}}, {{"k", "v"}});

  const std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() >= 8);
  const uint64_t n = decode_u64(bytes, 0);
  REQUIRE(8 + n <= bytes.size());
  CHECK((8 + n) % 8 == 0);  // data buffer 8-byte aligned
  const std::string header = bytes.substr(8, n);
  CHECK(header.front() == '{');
  const size_t last = header.find_last_not_of(' ');
  CHECK(header[last] == '}');
  CHECK(header.size() - last - 1 < 8);  // padding only as needed

  const auto j = nlohmann::json::parse(header);
  REQUIRE(j.is_object());
  CHECK(j.size() == 5);
  CHECK(j.at("__metadata__") == nlohmann::json{{"k", "v"}});
  struct Want {
    const char* name;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  const Want want[] = {{"a", {3}, 0, 12}, {"b", {2, 3}, 12, 36}, {"e", {0, 4}, 36, 36},
                       {"s", {}, 36, 40}};
  for (const auto& w : want) {
    INFO("tensor " << w.name);
    const auto& entry = j.at(w.name);
    CHECK(entry.at("dtype") == "F32");
    CHECK(entry.at("shape").get<std::vector<int64_t>>() == w.shape);
    CHECK(entry.at("data_offsets") == nlohmann::json::array({w.begin, w.end}));
  }
  const std::string data = bytes.substr(8 + n);
  REQUIRE(data.size() == 40);  // the buffer is exactly covered, no holes
  CHECK(data.substr(0, 12) == le_f32(-1.0f) + le_f32(0.25f) + le_f32(1e-30f));
  std::string b_bytes;
  for (int i = 1; i <= 6; ++i) b_bytes += le_f32(static_cast<float>(i));
  CHECK(data.substr(12, 24) == b_bytes);
  CHECK(data.substr(36, 4) == le_f32(42.0f));

  SECTION("double is written as F64") {
    const Tensor<double> x(Shape{2}, std::vector<double>{0.1, -7.5});
    const std::string p64 = tmp / "f64.safetensors";
    io::save_safetensors<double>(p64, {{"x", &x}});
    const std::string b64 = read_bytes(p64);
    const uint64_t n64 = decode_u64(b64, 0);
    CHECK((8 + n64) % 8 == 0);
    const auto j64 = nlohmann::json::parse(b64.substr(8, n64));
    CHECK(j64.at("x").at("dtype") == "F64");
    CHECK(j64.at("x").at("data_offsets") == nlohmann::json::array({0, 16}));
    CHECK(b64.substr(8 + n64) == le_f64(0.1) + le_f64(-7.5));
  }
}

TEST_CASE("safetensors: F32 loads as double and F64 loads as float", "[io][safetensors]") {
  ScratchDir tmp;
  std::mt19937 rng(Catch::rngSeed());
  const Tensor<float> f = random_tensor<float>(Shape{4, 7}, rng);
  const Tensor<double> d = random_tensor<double>(Shape{3, 65}, rng);
  const std::string pf = tmp / "f.safetensors", pd = tmp / "d.safetensors";
  io::save_safetensors<float>(pf, {{"f", &f}});
  io::save_safetensors<double>(pd, {{"d", &d}});

  const auto as_double = io::load_safetensors<double>(pf);
  REQUIRE(as_double.at("f").shape() == f.shape());
  for (int64_t i = 0; i < f.numel(); ++i) CHECK(same_value(as_double.at("f")[i], static_cast<double>(f[i])));

  const auto as_float = io::load_safetensors<float>(pd);
  REQUIRE(as_float.at("d").shape() == d.shape());
  for (int64_t i = 0; i < d.numel(); ++i) CHECK(same_value(as_float.at("d")[i], static_cast<float>(d[i])));

  const Tensor<double> big(Shape{2}, std::vector<double>{1e300, -1e300});
  io::save_safetensors<double>(pd, {{"big", &big}});
  const auto inf = io::load_safetensors<float>(pd).at("big");
  CHECK(inf[0] == std::numeric_limits<float>::infinity());
  CHECK(inf[1] == -std::numeric_limits<float>::infinity());
}

TEST_CASE("safetensors: corrupt files throw errors naming the file and the problem",
          "[io][safetensors]") {
  ScratchDir tmp;
  const std::string path = tmp / "bad.safetensors";
  std::string header;
  const std::string good = valid_file(&header);
  write_bytes(path, good);
  REQUIRE(io::load_safetensors<float>(path).at("b")[3] == 3.5f);  // the base case is valid
  const auto load = [&] { return io::load_safetensors<float>(path); };

  SECTION("missing file") {
    const std::string missing = tmp / "nope.safetensors";
    REQUIRE_THROWS_WITH(io::load_safetensors<float>(missing),
                        Contains(missing) && Contains("cannot open") &&
                            Contains("No such file"));
  }
  SECTION("a directory") {
    REQUIRE_THROWS_WITH(io::load_safetensors<float>(tmp.dir.string()),
                        Contains("not a regular file"));
  }
  SECTION("shorter than 8 bytes") {
    for (size_t cut : {0, 1, 7}) {
      INFO("cut at " << cut);
      write_bytes(path, good.substr(0, cut));
      REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("shorter than the 8-byte") &&
                                      Contains("re-save"));
    }
  }
  SECTION("truncated inside the header") {
    for (size_t cut : {size_t(8), size_t(9), 8 + header.size() / 2, 8 + header.size() - 1}) {
      INFO("cut at " << cut);
      write_bytes(path, good.substr(0, cut));
      REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("header length") &&
                                      Contains("larger than the file"));
    }
  }
  SECTION("truncated inside the data") {
    for (size_t cut : {8 + header.size(), 8 + header.size() + 23, good.size() - 1}) {
      INFO("cut at " << cut);
      write_bytes(path, good.substr(0, cut));
      REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("past the end of the data buffer"));
    }
  }
  SECTION("header length past the end, or absurd") {
    write_bytes(path, le_u64(good.size()) + good.substr(8));
    REQUIRE_THROWS_WITH(load(), Contains("larger than the file"));
    write_bytes(path, le_u64(uint64_t(1) << 40) + good.substr(8));
    REQUIRE_THROWS_WITH(load(), Contains("absurd"));
    write_bytes(path, le_u64(~uint64_t(0)) + good.substr(8));
    REQUIRE_THROWS_WITH(load(), Contains("absurd"));
  }
  SECTION("header is not valid JSON") {
    write_bytes(path, file_bytes(R"({"a": {"dtype": "F32",)", ""));
    REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("not valid JSON") &&
                                    Contains("parse error"));
    write_bytes(path, file_bytes("{\"\xff\": 1}", ""));  // invalid UTF-8
    REQUIRE_THROWS_WITH(load(), Contains("not valid JSON"));
    write_bytes(path, file_bytes("{", ""));
    REQUIRE_THROWS_WITH(load(), Contains("not valid JSON"));
  }
  SECTION("header does not start with '{' (the reference reader's first check)") {
    write_bytes(path, file_bytes("", ""));
    REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("does not start with '{'") && Contains("empty"));
    write_bytes(path, file_bytes("[1, 2]", ""));
    REQUIRE_THROWS_WITH(load(), Contains("does not start with '{'") && Contains("first byte is 91"));
    write_bytes(path, file_bytes(" {}", ""));
    REQUIRE_THROWS_WITH(load(), Contains("does not start with '{'"));
  }
  SECTION("entry is not an object or misses a field") {
    write_bytes(path, one_entry_file("5", 0));
    REQUIRE_THROWS_WITH(load(), Contains("tensor 't'") && Contains("must be a JSON object"));
    write_bytes(path, one_entry_file(R"({"shape": [1], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("tensor 't'") && Contains("no \"dtype\""));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("no \"shape\""));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [1]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("no \"data_offsets\""));
  }
  SECTION("fields of the wrong JSON type") {
    write_bytes(path, one_entry_file(R"({"dtype": 32, "shape": [1], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("\"dtype\" must be a string"));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": "1", "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("\"shape\" must be an array"));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [1], "data_offsets": [0]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("\"data_offsets\" must be [begin, end]"));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("\"data_offsets\" must be [begin, end]"));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("\"data_offsets\" must be [begin, end]"));
  }
  SECTION("negative or non-integer dimensions") {
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("tensor 't'") && Contains("non-negative integers") &&
                                    Contains("[2,-1]"));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [2.5], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("non-negative integers"));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [1e30], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("non-negative integers"));
  }
  SECTION("rank above 4") {
    write_bytes(path, one_entry_file(
                          R"({"dtype": "F32", "shape": [1, 1, 1, 1, 1], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("tensor 't'") && Contains("rank 5") &&
                                    Contains("rank 0..4"));
  }
  SECTION("unsupported and unknown dtypes") {
    write_bytes(path, one_entry_file(R"({"dtype": "I8", "shape": [4], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("tensor 't'") && Contains("dtype I8") &&
                                    Contains("only F32 and F64"));
    CHECK(io::read_safetensors_header(path).tensors.at("t").dtype == "I8");  // inspectable
    write_bytes(path, one_entry_file(R"({"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("dtype BF16") && Contains("tensor.float()"));
    write_bytes(path, one_entry_file(R"({"dtype": "Q7", "shape": [4], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("unknown dtype \"Q7\""));
  }
  SECTION("byte count does not match shape and dtype") {
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]})", 8));
    REQUIRE_THROWS_WITH(load(), Contains("tensor 't'") && Contains("needs 12 bytes") &&
                                    Contains("hold 8 bytes"));
    write_bytes(path, one_entry_file(R"({"dtype": "F64", "shape": [1], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("needs 8 bytes"));
    write_bytes(path, one_entry_file(
        R"({"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("more elements than a 64-bit count"));
  }
  SECTION("element counts whose product wraps are refused (not taken modulo 2^64)") {
    // [2^32, 2^32] F32 wraps to 0 elements in an unchecked 64-bit product of
    // bytes; [2^62, 4, 0] has 0 elements but Shape::numel() would overflow.
    for (const char* shape : {"[4294967296, 4294967296]", "[4611686018427387904, 4, 0]",
                              "[2305843009213693952, 2]", "[4611686018427387904]"}) {
      INFO(shape);
      write_bytes(path, one_entry_file(std::string(R"({"dtype": "F32", "shape": )") + shape +
                                           R"(, "data_offsets": [0, 0]})", 0));
      REQUIRE_THROWS_WITH(load(), Contains("tensor 't'") && Contains("more elements than a 64-bit count"));
    }
    // A zero first stops the product, as in Shape::numel(): 0 elements, 0 bytes.
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [0, 4611686018427387904, 4], "data_offsets": [0, 0]})", 0));
    CHECK(load().at("t").numel() == 0);
  }
  SECTION("a header claiming 10^12 elements is refused before any allocation") {
    // Offsets and byte counts are checked against the file's size before a
    // tensor exists, so neither file makes the reader allocate 4 TB.
    write_bytes(path, one_entry_file(
        R"({"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 4000000000000]})", 16));
    REQUIRE_THROWS_WITH(load(), Contains("tensor 't'") && Contains("past the end of the data buffer"));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 16]})", 16));
    REQUIRE_THROWS_WITH(load(), Contains("needs 4000000000000 bytes") && Contains("hold 16 bytes"));
  }
  SECTION("offsets out of range") {
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [2], "data_offsets": [4, 12]})", 8));
    REQUIRE_THROWS_WITH(load(), Contains("tensor 't'") && Contains("past the end of the data buffer"));
    write_bytes(path, one_entry_file(R"({"dtype": "F32", "shape": [0], "data_offsets": [8, 4]})", 8));
    REQUIRE_THROWS_WITH(load(), Contains("end before begin"));
  }
  SECTION("a name given twice is refused, not resolved to the last one") {
    write_bytes(path, file_bytes(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                 R"("t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')));
    REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("tensor name 't' appears twice"));
    write_bytes(path, one_entry_file(R"({"dtype":"F32","shape":[1],"shape":[2],"data_offsets":[0,4]})", 4));
    REQUIRE_THROWS_WITH(load(), Contains("key 'shape' appears twice"));
    write_bytes(path, file_bytes(R"({"__metadata__":{"a":"1","a":"2"}})", ""));
    REQUIRE_THROWS_WITH(load(), Contains("key 'a' appears twice"));
    write_bytes(path, file_bytes(R"({"__metadata__":{},"__metadata__":{}})", ""));
    REQUIRE_THROWS_WITH(load(), Contains("'__metadata__' appears twice"));
  }
  SECTION("holes, overlaps and trailing bytes are refused (tensors lie end to end)") {
    const auto two = [](const char* a, const char* b) {
      return std::string(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":)") + a +
             R"(},"b":{"dtype":"F32","shape":[1],"data_offsets":)" + b + "}}";
    };
    write_bytes(path, file_bytes(two("[0,4]", "[8,12]"), std::string(12, '\0')));
    REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("tensor 'b' begins at byte 8") &&
                                    Contains("leaving a hole after tensor 'a'"));
    write_bytes(path, file_bytes(two("[4,8]", "[4,8]"), std::string(8, '\0')));
    REQUIRE_THROWS_WITH(load(), Contains("begins at byte 4") && Contains("at the start of the data buffer"));
    write_bytes(path, file_bytes(two("[0,4]", "[0,4]"), std::string(4, '\0')));
    REQUIRE_THROWS_WITH(load(), Contains("overlapping tensor 'a', which ends at byte 4"));
    write_bytes(path, file_bytes(two("[0,4]", "[4,8]"), std::string(9, '\0')));
    REQUIRE_THROWS_WITH(load(), Contains("holds 9 bytes but its tensors end at byte 8") &&
                                    Contains("1 trailing bytes"));
    write_bytes(path, file_bytes("{}", "x"));
    REQUIRE_THROWS_WITH(load(), Contains("1 trailing bytes"));
    // Empty tensors may share an offset, as in the reference reader.
    write_bytes(path, file_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                                 R"("b":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})", ""));
    CHECK(load().size() == 2);
  }
  SECTION("nesting deeper than a header needs is refused") {
    write_bytes(path, file_bytes("{\"t\":{\"shape\":" + std::string(100000, '[') + "}}", ""));
    REQUIRE_THROWS_WITH(load(), Contains(path) && Contains("nests objects or arrays"));
  }
  SECTION("metadata of the wrong type") {
    write_bytes(path, file_bytes(R"({"__metadata__": {"epoch": 12}})", ""));
    REQUIRE_THROWS_WITH(load(), Contains("__metadata__") && Contains("must be a string"));
    write_bytes(path, file_bytes(R"({"__metadata__": ["x"]})", ""));
    REQUIRE_THROWS_WITH(load(), Contains("__metadata__") && Contains("must be an object"));
  }
}

TEST_CASE("safetensors: require() checks names and shapes", "[io][safetensors]") {
  ScratchDir tmp;
  const std::string path = tmp / "ok.safetensors";
  write_bytes(path, valid_file());
  const auto t = io::load_safetensors<float>(path);

  const auto& a = io::require(t, "a", Shape{2, 3}, path);
  CHECK(a[5] == 1.5f);
  REQUIRE_THROWS_WITH(io::require(t, "fc.weight", Shape{167, 64}, path),
                      Contains(path) && Contains("no tensor named 'fc.weight'") &&
                          Contains("[167, 64]") && Contains("2 tensor(s): a, b"));
  REQUIRE_THROWS_WITH(io::require(t, "a", Shape{3, 2}, path),
                      Contains(path) && Contains("tensor 'a' has shape [2, 3]") &&
                          Contains("shape [3, 2] was expected"));
  const std::map<std::string, Tensor<float>> none;
  REQUIRE_THROWS_WITH(io::require(none, "a", Shape{1}, path), Contains("0 tensor(s): none"));
}

TEST_CASE("safetensors: bad arguments to save throw before any file is touched",
          "[io][safetensors]") {
  ScratchDir tmp;
  const std::string path = tmp / "ckpt.safetensors";
  write_bytes(path, valid_file());
  const std::string before = read_bytes(path);
  const Tensor<float> x(Shape{2}, 1.0f);

  REQUIRE_THROWS_WITH(io::save_safetensors<float>(path, {{"x", &x}, {"x", &x}}),
                      Contains(path) && Contains("appears twice"));
  REQUIRE_THROWS_WITH(io::save_safetensors<float>(path, {{"__metadata__", &x}}),
                      Contains("reserved or empty"));
  REQUIRE_THROWS_WITH(io::save_safetensors<float>(path, {{"", &x}}), Contains("reserved or empty"));
  REQUIRE_THROWS_WITH(io::save_safetensors<float>(path, {{"x", nullptr}}), Contains("null pointer"));
  REQUIRE_THROWS_WITH(io::save_safetensors<float>(path, {{"bad\xff", &x}}), Contains("valid UTF-8"));
  REQUIRE_THROWS_WITH(io::save_safetensors<float>(path, {{"x", &x}}, {{"k", "\xc3"}}),
                      Contains("valid UTF-8"));
  CHECK(read_bytes(path) == before);
  CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("safetensors: writes are atomic and never damage the previous file",
          "[io][safetensors]") {
  ScratchDir tmp;
  const std::string path = tmp / "ckpt.safetensors";
  const Tensor<float> small(Shape{3}, std::vector<float>{1, 2, 3});
  io::save_safetensors<float>(path, {{"w", &small}});
  const std::string before = read_bytes(path);
  const Tensor<float> big(Shape{64, 1024}, 0.5f);  // 256 KiB

  SECTION("overwriting replaces the file and leaves no temporary behind") {
    io::save_safetensors<float>(path, {{"w", &big}});
    CHECK(io::load_safetensors<float>(path).at("w").shape() == Shape{64, 1024});
    CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors"});
  }
  SECTION("a write that fails midway (file size limit) keeps the old file") {
    // RLIMIT_FSIZE makes write() fail with EFBIG once the temporary passes 64 KiB:
    // a real I/O failure in the middle of the data, like a full disk.
    struct LimitGuard {
      rlimit old{};
      void (*old_handler)(int) = nullptr;
      LimitGuard() {
        REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
        old_handler = signal(SIGXFSZ, SIG_IGN);
        rlimit lim = old;
        lim.rlim_cur = 64 * 1024;
        REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
      }
      ~LimitGuard() {
        setrlimit(RLIMIT_FSIZE, &old);
        signal(SIGXFSZ, old_handler);
      }
    };
    std::string message;
    {
      LimitGuard limit;
      try {
        io::save_safetensors<float>(path, {{"w", &big}});
      } catch (const deepgen::Error& e) {
        message = e.what();
      }
    }
    CHECK_THAT(message, Contains(path) && Contains("writing the temporary file") &&
                            Contains("previous file at this path is unchanged"));
    CHECK(read_bytes(path) == before);
    CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors"});
  }
  SECTION("a rename that fails (the target is a directory) removes the temporary") {
    const std::string dir_target = tmp / "dir.safetensors";
    fs::create_directories(dir_target + "/inside");
    REQUIRE_THROWS_WITH(io::save_safetensors<float>(dir_target, {{"w", &small}}),
                        Contains(dir_target) && Contains("cannot rename"));
    CHECK(fs::is_directory(dir_target + "/inside"));
    CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors", "dir.safetensors"});
  }
  SECTION("a directory that does not exist") {
    const std::string nowhere = tmp / "missing/ckpt.safetensors";
    REQUIRE_THROWS_WITH(io::save_safetensors<float>(nowhere, {{"w", &small}}),
                        Contains(nowhere) && Contains("cannot create the temporary file") &&
                            Contains("directory exists and is writable"));
    CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors"});
  }
  SECTION("a directory that is not writable") {
    fs::permissions(tmp.dir, fs::perms::owner_read | fs::perms::owner_exec);
    const bool enforced = ::access(tmp.dir.c_str(), W_OK) != 0;  // root ignores permissions
    if (enforced) {
      REQUIRE_THROWS_WITH(io::save_safetensors<float>(path, {{"w", &big}}),
                          Contains("cannot create the temporary file") &&
                              Contains("Permission denied"));
    }
    fs::permissions(tmp.dir, fs::perms::owner_all);
    if (!enforced) WARN("running as root: directory permissions are not enforced, check skipped");
    CHECK(read_bytes(path) == before);
    CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors"});
  }
  SECTION("stale files at the next temporary names are skipped, not reused or damaged") {
    // Learn the next temporary name from a failing save, then simulate crashed
    // earlier saves that left files at the following names.
    std::string message;
    try {
      io::save_safetensors<float>(tmp / "missing/x", {{"w", &small}});
    } catch (const deepgen::Error& e) {
      message = e.what();
    }
    const std::string marker = ".tmp." + std::to_string(::getpid()) + ".";
    const size_t at = message.find(marker);
    REQUIRE(at != std::string::npos);
    const unsigned next = static_cast<unsigned>(std::stoul(message.substr(at + marker.size()))) + 1;
    for (unsigned i = next; i < next + 3; ++i)
      write_bytes(path + marker + std::to_string(i), "stale");
    io::save_safetensors<float>(path, {{"w", &big}});
    CHECK(io::load_safetensors<float>(path).at("w").numel() == 64 * 1024);
    const auto names = tmp.entries();
    CHECK(names.size() == 4);
    for (const auto& name : names)
      if (name != "ckpt.safetensors") CHECK(read_bytes(tmp / name) == "stale");
  }
}
