// ladle/averaging/detail/state_dict_impl.hpp: definitions for ladle/averaging/state_dict.hpp.
#pragma once

#include <limits>
#include <sstream>

namespace ladle {
inline std::string shape_string(const std::vector<index_t>& shape) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

template <class Ptr>
void basic_state_dict<Ptr>::add(std::string name, dtype type, std::vector<index_t> shape, Ptr* data) {
  constexpr const char* fn = "state_dict::add";
  if (name.empty()) throw_invalid_argument(fn, "name", "is empty (in '", source_, "')");
  if (!is_float_dtype(type) && !is_integer_dtype(type))
    throw_invalid_argument(fn, "type", "tensor '", name, "' of '", source_, "' has dtype ",
                           dtype_name(type), ", which is neither float nor integer");
  index_t n = 1;
  for (auto d : shape) {
    if (d < 0)
      throw_invalid_argument(fn, "shape", "tensor '", name, "' of '", source_,
                             "' has a negative extent ", d);
    n = detail::checked_mul(n, d, fn, "shape");
  }
  detail::checked_mul(n, static_cast<index_t>(type.bits / 8), fn, "shape");
  if (data == nullptr && n != 0)
    throw_invalid_argument(fn, "data", "tensor '", name, "' of '", source_, "' is null with ", n,
                           " elements");
  if (!index_.emplace(name, tensors_.size()).second)
    throw_invalid_argument(fn, "name", "tensor '", name, "' appears twice in '", source_, "'");
  tensors_.push_back({std::move(name), type, std::move(shape), data});
}

template <class Ptr>
template <class T, std::size_t R>
void basic_state_dict<Ptr>::add(std::string name, tensor_view<T, R> view) {
  static_assert(std::is_const<Ptr>::value || !std::is_const<T>::value,
                "ladle::mutable_state_dict::add: the view must be writable");
  detail::require_host(view, "state_dict::add", "view");
  if (!view.is_contiguous())
    throw_invalid_argument("state_dict::add", "view", "tensor '", name, "' of '", source_,
                           "' is not contiguous (C order)");
  std::vector<index_t> shape(view.extents().begin(), view.extents().end());
  add(std::move(name), dtype_v<T>, std::move(shape), static_cast<Ptr*>(view.data()));
}

template <class Ptr>
const typename basic_state_dict<Ptr>::tensor_type& basic_state_dict<Ptr>::at(
    std::string_view name) const {
  const tensor_type* t = find(name);
  if (t == nullptr)
    throw_invalid_argument("state_dict::at", "name", "'", source_, "' has no tensor '",
                           std::string(name), "'");
  return *t;
}

inline const mutable_named_tensor& owned_state_dict::add(std::string name, dtype type,
                                                         std::vector<index_t> shape) {
  index_t n = 1;
  for (auto d : shape) n = detail::checked_mul(n, d < 0 ? 0 : d, "owned_state_dict::add", "shape");
  const index_t bytes = detail::checked_mul(n, type.bits / 8, "owned_state_dict::add", "shape");
  storage_.push_back(detail::make_buffer<std::uint64_t>((bytes + 7) / 8, "owned_state_dict::add", "shape"));
  dict_.add(std::move(name), type, std::move(shape),
            storage_.back().empty() ? nullptr : static_cast<void*>(storage_.back().data()));
  return dict_.tensors().back();
}

template <class T>
tensor_view<T, 1> owned_state_dict::values(std::string_view name) const {
  const auto& t = dict_.at(name);
  if (t.type != dtype_v<T>)
    throw_invalid_argument("owned_state_dict::values", "T", "tensor '", std::string(name),
                           "' has dtype ", dtype_name(t.type), ", asked for ", dtype_name(dtype_v<T>));
  return tensor_view<T, 1>(static_cast<T*>(t.data), {t.elements()});
}

inline void match_state_dicts(const std::vector<state_dict>& models, const char* fn,
                              float_dtypes floats) {
  if (models.empty()) throw_invalid_argument(fn, "models", "is empty");
  const state_dict& first = models[0];
  for (std::size_t m = 1; m < models.size(); ++m) {
    const state_dict& other = models[m];
    for (const auto& t : first.tensors()) {
      const auto* u = other.find(t.name);
      if (u == nullptr)
        throw_invalid_argument(fn, "models", "tensor '", t.name, "' is in model '", first.source(),
                               "' but not in model '", other.source(), "'");
      if (u->shape != t.shape)
        throw_invalid_argument(fn, "models", "tensor '", t.name, "': model '", first.source(),
                               "' has shape ", shape_string(t.shape), ", model '", other.source(),
                               "' has ", shape_string(u->shape));
      const bool both_float = is_float_dtype(t.type) && is_float_dtype(u->type);
      if (u->type != t.type && !(both_float && floats == float_dtypes::may_differ))
        throw_invalid_argument(fn, "models", "tensor '", t.name, "': model '", first.source(),
                               "' has dtype ", dtype_name(t.type), ", model '", other.source(),
                               "' has ", dtype_name(u->type));
    }
    if (other.size() != first.size())
      for (const auto& u : other.tensors())
        if (first.find(u.name) == nullptr)
          throw_invalid_argument(fn, "models", "tensor '", u.name, "' is in model '",
                                 other.source(), "' but not in model '", first.source(), "'");
  }
}

}  // namespace ladle
