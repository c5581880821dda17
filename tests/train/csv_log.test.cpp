// Tests for train/csv_log.hpp's reader: cells that are numbers only in
// part, bounded reads, and resume's rewrite of the log refusing damage
// instead of reading "12abc" as 12.
#include <deepgen/train/csv_log.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "support/temp_dir.hpp"

using namespace deepgen;
using Catch::Contains;

namespace {
std::string contents(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
}  // namespace

TEST_CASE("train::CsvTable::number: junk after a number is an error naming file, line and column", "[train][errors]") {
  test::TempDir dir;
  const std::string path = dir.write("log.csv", "epoch,minutes,loss\r\n1,0.5,2.5\r\n2,1.0,1.5abc\n3,1.5, 1.25\n4,2,\n5,3,nan\n");
  const train::CsvTable t = train::read_csv(path);
  REQUIRE(t.rows.size() == 5);
  CHECK(t.number(0, 2) == 2.5);  // CRLF line ends are read as LF
  CHECK(t.number(1, 1) == 1.0);
  CHECK_THROWS_WITH(t.number(1, 2), Contains(path + ":3:7: the 'loss' cell '1.5abc' is not a finite number"));
  CHECK_THROWS_WITH(t.number(2, 2), Contains(path + ":4:7: the 'loss' cell ' 1.25'"));
  CHECK_THROWS_WITH(t.number(3, 2), Contains(path + ":5:5: the 'loss' cell ''"));
  CHECK_THROWS_WITH(t.number(4, 2), Contains(path + ":6:5: the 'loss' cell 'nan'"));
  CHECK_THROWS_WITH(t.number(9, 0), Contains("outside the table"));
  double v = 0;
  CHECK(train::parse_number("-1.25e-3", v));
  CHECK(v == -1.25e-3);
  CHECK(!train::parse_number("1.5abc", v));
  CHECK(!train::parse_number("inf", v));
  CHECK(!train::parse_number("", v));
}

TEST_CASE("train::read_csv: an endless or missing file is refused by name", "[train][errors]") {
  CHECK_THROWS_WITH(train::read_csv("/dev/zero"), Contains("/dev/zero") && Contains("longer than"));
  CHECK_THROWS_WITH(train::read_csv("/nonexistent/log.csv"), Contains("cannot open '/nonexistent/log.csv'"));
  test::TempDir dir;
  CHECK_THROWS_WITH(train::read_csv(dir.write("e.csv", "")), Contains("e.csv: empty file"));
}

TEST_CASE("train::CsvLog::drop_rows_after: a step cell with junk is refused and the log left as it was",
          "[train][errors]") {
  test::TempDir dir;
  const std::string damaged = "epoch,step\n1,5\n2,10abc\n3,15\n";
  const std::string path = dir.write("log.csv", damaged);
  CHECK_THROWS_WITH(train::CsvLog::drop_rows_after(path, "step", 10),
                    Contains(path + ":3:3: the 'step' cell '10abc' is not a whole number"));
  CHECK(contents(path) == damaged);
  // A last line without its newline is a row the kill cut short: dropped, not an error.
  const std::string torn = dir.write("torn.csv", "epoch,step\n1,5\n2,10\n3,1e");
  CHECK(train::CsvLog::drop_rows_after(torn, "step", 10));
  CHECK(contents(torn) == "epoch,step\n1,5\n2,10\n");
  const std::string later = dir.write("later.csv", "epoch,step\n1,5\n2,10\n3,15\n");
  CHECK(!train::CsvLog::drop_rows_after(later, "step", 12));
  CHECK(contents(later) == "epoch,step\n1,5\n2,10\n");
}
