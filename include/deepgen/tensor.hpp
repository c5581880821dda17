// tensor.hpp — Shape and Tensor<T>: owning, contiguous, row-major storage.
//
// A Tensor owns its elements (no strides, no views into other tensors): every
// op in deepgen is coarse and writes whole outputs, so aliasing rules would buy
// nothing but bugs. Math goes through cheap Eigen Map views (matrix(), vec()),
// which see the tensor as rows × last-dimension, row-major. Storage uses
// Eigen's aligned allocator so those maps can use aligned SIMD loads.
//
// The device tag says where the elements live. The CPU library only creates
// Device::cpu tensors; device buffers are the CUDA backend's (cuda/*.hpp).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "error.hpp"

namespace deepgen {

/// Where a tensor's elements live.
enum class Device { cpu, cuda };

/// "cpu" or "cuda".
inline const char* to_string(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

/// The extent of a tensor: rank 0 (a scalar) up to rank 4.
class Shape {
 public:
  /// The highest rank a Shape holds.
  static constexpr int MAX_RANK = 4;

  /// Rank 0: a scalar with one element.
  Shape() = default;
  /// The shape with these dimensions, outermost first: Shape{B, T, H}.
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  /// The shape with these dimensions, outermost first.
  explicit Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }

  /// The number of dimensions (0 for a scalar).
  int rank() const { return m_rank; }
  /// Dimension i, bounds-checked.
  int64_t operator[](int i) const {
    DEEPGEN_CHECK(i >= 0 && i < m_rank, "Shape", *this, ": dimension ", i,
                  " does not exist (rank ", m_rank, ")");
    return m_dims[i];
  }
  /// The number of elements: the product of the dimensions (1 for a scalar).
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < m_rank; ++i) n *= m_dims[i];
    return n;
  }
  /// The last dimension (1 for a scalar): the column count of matrix().
  int64_t cols() const { return m_rank == 0 ? 1 : m_dims[m_rank - 1]; }
  /// Product of all leading dimensions: the row count of matrix().
  int64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }
  /// The dimensions, outermost first.
  std::vector<int64_t> dims() const { return {m_dims.begin(), m_dims.begin() + m_rank}; }

  /// True when both have the same rank and dimensions.
  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.m_rank != b.m_rank) return false;
    for (int i = 0; i < a.m_rank; ++i)
      if (a.m_dims[i] != b.m_dims[i]) return false;
    return true;
  }
  /// True when the shapes differ.
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }
  /// Prints the shape as `[2, 3]`.
  friend std::ostream& operator<<(std::ostream& os, const Shape& s) {
    os << '[';
    for (int i = 0; i < s.m_rank; ++i) os << (i ? ", " : "") << s.m_dims[i];
    return os << ']';
  }
  /// The shape as text: `[2, 3]`.
  std::string str() const { return detail::str(*this); }

 private:
  template <typename It>
  void assign(It first, It last) {
    const auto n = std::distance(first, last);
    DEEPGEN_CHECK(n <= MAX_RANK, "Shape: rank ", n, " is not supported (at most ", MAX_RANK,
                  "); reshape the data to 4 or fewer dimensions");
    m_rank = static_cast<int>(n);
    int i = 0;
    for (It it = first; it != last; ++it, ++i) {
      DEEPGEN_CHECK(*it >= 0, "Shape: dimension ", i, " is ", *it,
                    "; dimensions must be non-negative");
      m_dims[i] = *it;
    }
  }

  int m_rank = 0;
  std::array<int64_t, MAX_RANK> m_dims{};
};

namespace detail {
/// An allocator that default-initialises: std::vector<float>(n) then leaves
/// the floats unwritten instead of zeroing them. Tensor's constructors still
/// fill explicitly; only Tensor::uninitialized skips it, for workspaces that
/// are overwritten at once (zeroing a 100 MB LSTM workspace costs ~10 ms).
template <typename T>
struct DefaultInitAllocator : Eigen::aligned_allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) {}
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
}  // namespace detail

/// A dynamic-size row-major Eigen matrix of T (the layout of Tensor::matrix()).
template <typename T>
using MatrixRM = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// A dynamic-size Eigen column vector of T.
template <typename T>
using VectorX = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// An owning, contiguous, row-major array of T with a Shape.
template <typename T>
class Tensor {
  static_assert(std::is_floating_point<T>::value || std::is_integral<T>::value,
                "Tensor<T> holds arithmetic types only (float, double, integer indices)");

 public:
  /// The element type.
  using Scalar = T;
  /// A writable row-major matrix view of the elements.
  using MatrixMap = Eigen::Map<MatrixRM<T>, Eigen::Unaligned>;
  /// A read-only row-major matrix view of the elements.
  using ConstMatrixMap = Eigen::Map<const MatrixRM<T>, Eigen::Unaligned>;
  /// A writable vector view of the elements.
  using VectorMap = Eigen::Map<VectorX<T>, Eigen::Unaligned>;
  /// A read-only vector view of the elements.
  using ConstVectorMap = Eigen::Map<const VectorX<T>, Eigen::Unaligned>;

  /// An empty tensor: shape [0], no elements.
  Tensor() : m_shape{0} {}
  /// A zero-filled tensor of the given shape.
  explicit Tensor(const Shape& shape, T fill = T(0))
      : m_shape(shape), m_data(static_cast<size_t>(shape.numel()), fill) {}
  /// A tensor with the given elements in row-major order.
  Tensor(const Shape& shape, std::vector<T> values) : m_shape(shape), m_data(values.begin(), values.end()) {
    DEEPGEN_CHECK(static_cast<int64_t>(m_data.size()) == shape.numel(), "Tensor: shape ", shape,
                  " holds ", shape.numel(), " elements but ", m_data.size(), " values were given");
  }

  /// A zero-filled tensor of the given shape.
  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  /// Elements left unwritten: only for buffers the caller overwrites entirely.
  static Tensor uninitialized(const Shape& shape) {
    Tensor t;
    t.m_shape = shape;
    t.m_data.resize(static_cast<size_t>(shape.numel()));
    return t;
  }
  /// A tensor of the given shape with every element `value`.
  static Tensor full(const Shape& shape, T value) { return Tensor(shape, value); }
  /// A rank-0 tensor holding `value`.
  static Tensor scalar(T value) { return Tensor(Shape{}, value); }

  /// The shape.
  const Shape& shape() const { return m_shape; }
  /// The number of dimensions.
  int rank() const { return m_shape.rank(); }
  /// Dimension i of the shape, bounds-checked.
  int64_t dim(int i) const { return m_shape[i]; }
  /// The number of elements.
  int64_t numel() const { return static_cast<int64_t>(m_data.size()); }
  /// True when the tensor holds no element.
  bool empty() const { return m_data.empty(); }
  /// Where the elements live (always Device::cpu for Tensor).
  Device device() const { return m_device; }

  /// The first element; the rest follow in row-major order.
  T* data() { return m_data.data(); }
  /// The first element, read-only.
  const T* data() const { return m_data.data(); }
  /// Iterator to the first element.
  T* begin() { return m_data.data(); }
  /// Iterator past the last element.
  T* end() { return m_data.data() + m_data.size(); }
  /// Read-only iterator to the first element.
  const T* begin() const { return m_data.data(); }
  /// Read-only iterator past the last element.
  const T* end() const { return m_data.data() + m_data.size(); }

  /// Flat element access, unchecked (hot loops).
  T& operator[](int64_t i) { return m_data[static_cast<size_t>(i)]; }
  /// Flat element access, unchecked, read-only.
  const T& operator[](int64_t i) const { return m_data[static_cast<size_t>(i)]; }

  /// Multi-index access, bounds-checked: t.at(b, t, h).
  template <typename... I>
  T& at(I... idx) { return m_data[flat_index({static_cast<int64_t>(idx)...})]; }
  /// Multi-index access, bounds-checked, read-only.
  template <typename... I>
  const T& at(I... idx) const { return m_data[flat_index({static_cast<int64_t>(idx)...})]; }

  /// The tensor as a (rows × last-dim) row-major matrix, no copy.
  MatrixMap matrix() { return MatrixMap(data(), m_shape.rows(), m_shape.cols()); }
  /// The tensor as a read-only (rows × last-dim) row-major matrix, no copy.
  ConstMatrixMap matrix() const { return ConstMatrixMap(data(), m_shape.rows(), m_shape.cols()); }
  /// The tensor as a (rows × cols) matrix; rows·cols must equal numel().
  MatrixMap matrix(int64_t rows, int64_t cols) {
    check_view(rows, cols);
    return MatrixMap(data(), rows, cols);
  }
  /// The tensor as a read-only (rows × cols) matrix; rows·cols must equal numel().
  ConstMatrixMap matrix(int64_t rows, int64_t cols) const {
    check_view(rows, cols);
    return ConstMatrixMap(data(), rows, cols);
  }
  /// All elements as one column vector, no copy.
  VectorMap vec() { return VectorMap(data(), numel()); }
  /// All elements as one read-only column vector, no copy.
  ConstVectorMap vec() const { return ConstVectorMap(data(), numel()); }

  /// Sets every element to `value`.
  void fill(T value) { std::fill(m_data.begin(), m_data.end(), value); }
  /// Sets every element to zero.
  void set_zero() { fill(T(0)); }

  /// Same elements, new shape of equal element count (in place).
  Tensor& reshape(const Shape& shape) {
    DEEPGEN_CHECK(shape.numel() == numel(), "Tensor::reshape: cannot view ", m_shape, " (",
                  numel(), " elements) as ", shape, " (", shape.numel(), " elements)");
    m_shape = shape;
    return *this;
  }
  /// A copy with a new shape of equal element count.
  Tensor reshaped(const Shape& shape) const {
    Tensor t = *this;
    t.reshape(shape);
    return t;
  }

  /// A copy with elements converted to U.
  template <typename U>
  Tensor<U> cast() const {
    Tensor<U> out(m_shape);
    std::transform(begin(), end(), out.begin(), [](T v) { return static_cast<U>(v); });
    return out;
  }

 private:
  int64_t flat_index(std::initializer_list<int64_t> idx) const {
    DEEPGEN_CHECK(static_cast<int>(idx.size()) == rank(), "Tensor::at: ", idx.size(),
                  " indices given for a tensor of shape ", m_shape);
    int64_t flat = 0;
    int d = 0;
    for (int64_t i : idx) {
      DEEPGEN_CHECK(i >= 0 && i < m_shape[d], "Tensor::at: index ", i, " out of range for dimension ",
                    d, " of shape ", m_shape);
      flat = flat * m_shape[d] + i;
      ++d;
    }
    return flat;
  }
  void check_view(int64_t rows, int64_t cols) const {
    DEEPGEN_CHECK(rows >= 0 && cols >= 0 && rows * cols == numel(), "Tensor::matrix: cannot view ",
                  m_shape, " (", numel(), " elements) as a ", rows, "x", cols, " matrix");
  }

  Shape m_shape;
  std::vector<T, detail::DefaultInitAllocator<T>> m_data;
  Device m_device = Device::cpu;
};

/// A float tensor.
using Tensorf = Tensor<float>;
/// A double tensor.
using Tensord = Tensor<double>;
/// An int32 tensor (indices, tokens, targets).
using Tensori = Tensor<int32_t>;

/// Throw unless `got` equals `want`; `what` names the argument for the message.
inline void check_shape(const Shape& got, const Shape& want, const std::string& what) {
  DEEPGEN_CHECK(got == want, what, ": expected shape ", want, " but got ", got);
}

}  // namespace deepgen
