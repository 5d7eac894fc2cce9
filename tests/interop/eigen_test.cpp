// GCC 12's own AVX-512 intrinsics (_mm512_undefined_*) trip -Wuninitialized when Eigen's matrix
// products transpose packets under -march=native; the warning is false and not ours.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#  pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <ladle/core/dtype.hpp>
#include <ladle/interop/eigen.hpp>

#include <Eigen/Dense>
#include <doctest/doctest.h>

#include <numeric>
#include <type_traits>
#include <vector>

using ladle::index_t;

namespace {

// Every element of the view equals the Eigen object's coefficient.
template <class View, class M>
bool same_elements(const View& v, const M& m) {
  if (v.extent(0) != m.rows() || v.extent(1) != m.cols()) return false;
  for (index_t i = 0; i < m.rows(); ++i)
    for (index_t j = 0; j < m.cols(); ++j)
      if (v(i, j) != m(i, j)) return false;
  return true;
}

Eigen::MatrixXf counting(index_t rows, index_t cols) {
  Eigen::MatrixXf m(rows, cols);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) m(i, j) = static_cast<float>(10 * i + j);
  return m;
}

}  // namespace

TEST_CASE("from_eigen: column- and row-major matrices keep their storage order") {
  Eigen::MatrixXf cm = counting(3, 4);
  auto v = ladle::from_eigen(cm);
  static_assert(std::is_same<decltype(v), ladle::matrix_view<float>>::value, "");
  CHECK(v.data() == cm.data());
  CHECK(v.stride(0) == 1);
  CHECK(v.stride(1) == 3);
  CHECK(same_elements(v, cm));
  v(2, 1) = -1.f;  // writes through
  CHECK(cm(2, 1) == -1.f);

  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm =
      counting(3, 4).cast<double>();
  auto r = ladle::from_eigen(rm);
  CHECK(r.stride(0) == 4);
  CHECK(r.stride(1) == 1);
  CHECK(r.is_contiguous());
  CHECK(same_elements(r, rm));

  Eigen::Matrix<float, 2, 3> fixed = counting(2, 3);
  CHECK(same_elements(ladle::from_eigen(fixed), fixed));

  Eigen::ArrayXXf arr = counting(2, 5).array();
  CHECK(same_elements(ladle::from_eigen(arr), arr));

  Eigen::MatrixXf empty(0, 3);
  auto ve = ladle::from_eigen(empty);
  CHECK(ve.empty());
  CHECK(ve.extent(1) == 3);
  CHECK(ladle::to_eigen(ve).cols() == 3);
}

TEST_CASE("from_eigen: const objects give const views") {
  const Eigen::MatrixXf m = counting(2, 2);
  auto v = ladle::from_eigen(m);
  static_assert(std::is_same<decltype(v), ladle::matrix_view<const float>>::value, "");
  CHECK(same_elements(v, m));

  float buf[6] = {0, 1, 2, 3, 4, 5};
  auto cmap = ladle::from_eigen(Eigen::Map<const Eigen::MatrixXf>(buf, 2, 3));
  static_assert(std::is_same<decltype(cmap), ladle::matrix_view<const float>>::value, "");
  CHECK(cmap(1, 2) == 5.f);

  auto cblock = ladle::from_eigen(m.block(0, 1, 2, 1));
  static_assert(std::is_same<decltype(cblock), ladle::matrix_view<const float>>::value, "");
  CHECK(cblock(1, 0) == m(1, 1));
}

TEST_CASE("from_eigen: Map with InnerStride, OuterStride and Stride<Outer, Inner>") {
  std::vector<float> buf(64);
  std::iota(buf.begin(), buf.end(), 0.f);

  // Column-major 3x4, columns 5 apart.
  Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>> mo(buf.data(), 3, 4,
                                                          Eigen::OuterStride<>(5));
  auto vo = ladle::from_eigen(mo);
  CHECK(vo.stride(0) == 1);
  CHECK(vo.stride(1) == 5);
  CHECK(same_elements(vo, mo));

  // Column-major with every other element: InnerStride<2>.
  Eigen::Map<Eigen::MatrixXf, 0, Eigen::InnerStride<2>> mi(buf.data(), 3, 2);
  auto vi = ladle::from_eigen(mi);
  CHECK(vi.stride(0) == 2);
  CHECK(vi.stride(1) == 6);
  CHECK(same_elements(vi, mi));

  // Row-major with both strides dynamic: Stride<Outer = row step, Inner = column step>.
  using rm_t = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<rm_t, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> ms(
      buf.data(), 3, 4, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(13, 3));
  auto vs = ladle::from_eigen(ms);
  CHECK(vs.stride(0) == 13);
  CHECK(vs.stride(1) == 3);
  CHECK(vs(2, 3) == buf[2 * 13 + 3 * 3]);
  CHECK(same_elements(vs, ms));

  // Column-major with both strides dynamic.
  Eigen::Map<Eigen::MatrixXf, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> mc(
      buf.data(), 3, 4, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(11, 2));
  auto vc = ladle::from_eigen(mc);
  CHECK(vc.stride(0) == 2);
  CHECK(vc.stride(1) == 11);
  CHECK(same_elements(vc, mc));

  // A zero inner stride broadcasts; a negative one walks backwards. Both are kept.
  Eigen::Map<Eigen::VectorXf, 0, Eigen::InnerStride<>> zero(buf.data() + 7, 4,
                                                            Eigen::InnerStride<>(0));
  CHECK(ladle::from_eigen(zero).stride(0) == 0);
  CHECK(same_elements(ladle::from_eigen(zero), zero));
  Eigen::Map<Eigen::VectorXf, 0, Eigen::InnerStride<>> back(buf.data() + 9, 4,
                                                            Eigen::InnerStride<>(-2));
  CHECK(ladle::from_eigen(back).stride(0) == -2);
  CHECK(same_elements(ladle::from_eigen(back), back));
}

TEST_CASE("from_eigen: Ref, blocks, rows, columns and transposes") {
  Eigen::MatrixXf m = counting(4, 5);

  Eigen::Ref<Eigen::MatrixXf> ref = m.block(1, 1, 3, 3);
  auto vr = ladle::from_eigen(ref);
  CHECK(vr.data() == &m(1, 1));
  CHECK(vr.stride(1) == 4);
  CHECK(same_elements(vr, ref));

  Eigen::Ref<const Eigen::MatrixXf, 0, Eigen::OuterStride<>> cref = m.bottomRightCorner(2, 2);
  auto vcr = ladle::from_eigen(cref);
  static_assert(std::is_same<decltype(vcr), ladle::matrix_view<const float>>::value, "");
  CHECK(same_elements(vcr, cref));

  auto vb = ladle::from_eigen(m.block(1, 2, 2, 3));
  CHECK(same_elements(vb, m.block(1, 2, 2, 3)));
  vb(0, 0) = 99.f;
  CHECK(m(1, 2) == 99.f);

  auto col = ladle::from_eigen(m.col(3));
  CHECK(col.extent(0) == 4);
  CHECK(col.extent(1) == 1);
  CHECK(same_elements(col, m.col(3)));
  auto row = ladle::from_eigen(m.row(2));  // a row of a column-major matrix: step = rows
  CHECK(row.stride(1) == 4);
  CHECK(same_elements(row, m.row(2)));

  auto t = ladle::from_eigen(m.transpose());
  CHECK(t.extent(0) == 5);
  CHECK(t.stride(0) == 4);
  CHECK(t.stride(1) == 1);
  CHECK(same_elements(t, m.transpose()));

  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = m;
  CHECK(same_elements(ladle::from_eigen(rm.col(1)), rm.col(1)));
  CHECK(same_elements(ladle::from_eigen(rm.block(1, 1, 2, 3)), rm.block(1, 1, 2, 3)));
  CHECK(same_elements(ladle::from_eigen(rm.transpose()), rm.transpose()));
}

TEST_CASE("from_eigen_vector: one row or one column as a vector_view") {
  Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(5, 0, 4);
  auto vx = ladle::from_eigen_vector(x);
  static_assert(std::is_same<decltype(vx), ladle::vector_view<double>>::value, "");
  CHECK(vx.extent(0) == 5);
  CHECK(vx.stride(0) == 1);
  CHECK(vx(4) == 4.0);
  CHECK(ladle::from_eigen(x).extent(1) == 1);  // from_eigen keeps Eigen's n x 1 shape

  Eigen::MatrixXf m = counting(3, 4);
  auto r = ladle::from_eigen_vector(m.row(1));
  CHECK(r.extent(0) == 4);
  CHECK(r.stride(0) == 3);
  for (index_t j = 0; j < 4; ++j) CHECK(r(j) == m(1, j));
  auto c = ladle::from_eigen_vector(m.col(2));
  CHECK(c.extent(0) == 3);
  for (index_t i = 0; i < 3; ++i) CHECK(c(i) == m(i, 2));
  auto seg = ladle::from_eigen_vector(m.col(2).segment(1, 2));
  CHECK(seg(1) == m(2, 2));

  CHECK_THROWS_AS(ladle::from_eigen_vector(m), ladle::invalid_argument);
}

TEST_CASE("from_eigen: half and bfloat16 matrices") {
  Eigen::Matrix<ladle::half, Eigen::Dynamic, Eigen::Dynamic> h(2, 2);
  h << ladle::half(1.f), ladle::half(2.f), ladle::half(3.f), ladle::half(4.f);
  auto vh = ladle::from_eigen(h);
  CHECK(ladle::to_float(vh(1, 0)) == 3.f);
  Eigen::Matrix<ladle::bfloat16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> b(1, 3);
  b << ladle::bfloat16(1.f), ladle::bfloat16(-2.f), ladle::bfloat16(0.5f);
  auto vb = ladle::from_eigen(b);
  CHECK(ladle::to_float(vb(0, 1)) == -2.f);
}

TEST_CASE("to_eigen: maps with the view's strides, in both storage orders") {
  std::vector<float> buf(24);
  std::iota(buf.begin(), buf.end(), 0.f);

  auto rowmajor = ladle::make_view(buf.data(), {3, 4});
  auto e = ladle::to_eigen(rowmajor);
  static_assert(std::is_same<decltype(e), ladle::eigen_map<float>>::value, "");
  CHECK(e.rows() == 3);
  CHECK(e.cols() == 4);
  CHECK(e.outerStride() == 4);
  CHECK(e.innerStride() == 1);
  CHECK(same_elements(rowmajor, e));
  e(1, 2) = -5.f;
  CHECK(buf[6] == -5.f);

  // A column-major view (strides {1, rows}) and a strided sub-view.
  auto colmajor = ladle::make_view(buf.data(), {4, 3}, {1, 4});
  CHECK(same_elements(colmajor, ladle::to_eigen(colmajor)));
  auto strided = ladle::make_view(buf.data() + 1, {3, 2}, {7, 3});
  auto es = ladle::to_eigen(strided);
  CHECK(es.outerStride() == 7);
  CHECK(es.innerStride() == 3);
  CHECK(same_elements(strided, es));

  // Const views map read-only.
  ladle::matrix_view<const float> cv = colmajor;
  auto ce = ladle::to_eigen(cv);
  static_assert(std::is_same<decltype(ce), ladle::eigen_map<const float>>::value, "");
  CHECK(same_elements(cv, ce));

  // Round trip back to a view: same pointer, extents and strides.
  auto back = ladle::from_eigen(es);
  CHECK(back.data() == strided.data());
  CHECK(back.extents() == strided.extents());
  CHECK(back.strides() == strided.strides());
  auto back_cm = ladle::from_eigen(ladle::to_eigen(colmajor));
  CHECK(back_cm.strides() == colmajor.strides());
}

TEST_CASE("to_eigen: GEMM tiles over views agree with a naive product") {
  std::vector<double> a(5 * 7), b(7 * 3), c(5 * 3, 0.0);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0.25 * static_cast<double>(i % 11) - 1.0;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.5 * static_cast<double>(i % 5) - 0.75;
  auto av = ladle::make_view(a.data(), {5, 7});
  auto bt = ladle::make_view(b.data(), {7, 3}, {1, 7});  // b stored column-major
  auto cv = ladle::make_view(c.data(), {5, 3});
  ladle::to_eigen_row_major(cv).noalias() = ladle::to_eigen_row_major(av) * ladle::to_eigen(bt);
  for (index_t i = 0; i < 5; ++i)
    for (index_t j = 0; j < 3; ++j) {
      double s = 0;
      for (index_t k = 0; k < 7; ++k) s += av(i, k) * bt(k, j);
      CHECK(cv(i, j) == doctest::Approx(s).epsilon(1e-12));
    }

  // The distance-tile pattern of the docs: C = A * B^T with both operands row-major views.
  std::vector<float> a2(5 * 7), b2(3 * 7), c2(5 * 3, 0.f);
  for (std::size_t i = 0; i < a2.size(); ++i) a2[i] = 0.25f * static_cast<float>(i % 11) - 1.f;
  for (std::size_t i = 0; i < b2.size(); ++i) b2[i] = static_cast<float>(i % 4) - 1.5f;
  auto a2v = ladle::make_view(a2.data(), {5, 7});
  auto b2v = ladle::make_view(b2.data(), {3, 7});
  auto c2v = ladle::make_view(c2.data(), {5, 3});
  ladle::to_eigen_row_major(c2v).noalias() =
      ladle::to_eigen_row_major(a2v) * ladle::to_eigen_row_major(b2v).transpose();
  for (index_t i = 0; i < 5; ++i)
    for (index_t j = 0; j < 3; ++j) {
      double s = 0;
      for (index_t k = 0; k < 7; ++k) s += double(a2v(i, k)) * double(b2v(j, k));
      CHECK(c2v(i, j) == doctest::Approx(s).epsilon(1e-5));
    }

  auto x = ladle::make_view(a.data(), 7);
  auto ex = ladle::to_eigen(x);
  static_assert(std::is_same<decltype(ex), ladle::eigen_vector_map<double>>::value, "");
  CHECK(ex.size() == 7);
  auto every_other = ladle::make_view(a.data(), {3}, {2});
  CHECK(ladle::to_eigen(every_other)(2) == a[4]);
}

TEST_CASE("to_eigen: refuses negative strides, device memory and non-adjacent columns") {
  std::vector<float> buf(12, 1.f);
  auto flipped = ladle::make_view(buf.data() + 8, {3, 4}, {-4, 1});
  CHECK_THROWS_AS(ladle::to_eigen(flipped), ladle::invalid_argument);
  auto reversed = ladle::make_view(buf.data() + 11, {12}, {-1});
  CHECK_THROWS_AS(ladle::to_eigen(reversed), ladle::invalid_argument);
  auto gpu = ladle::make_view(buf.data(), {3, 4}, ladle::device::cuda(0));
  CHECK_THROWS_AS(ladle::to_eigen(gpu), ladle::invalid_argument);
  auto colmajor = ladle::make_view(buf.data(), {3, 4}, {1, 3});
  CHECK_THROWS_AS(ladle::to_eigen_row_major(colmajor), ladle::invalid_argument);
  CHECK_NOTHROW(ladle::to_eigen_row_major(ladle::make_view(buf.data(), {3, 1}, {1, 5})));
  try {
    ladle::to_eigen(flipped);
  } catch (const ladle::invalid_argument& e) {
    CHECK(std::string(e.what()).find("negative") != std::string::npos);
    CHECK(std::string(e.what()).find("-4") != std::string::npos);
  }
}
