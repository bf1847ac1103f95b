#include "trainer/model/activation_checkpoint.h"

#include <ATen/Context.h>
#include <torch/autograd.h>

namespace trainrt::trainer {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Autograd refuses undefined inputs (GPT-2 has no rotary tables; a batch may have no mask): an
// empty stand-in travels instead, with flags saying which, and `Context` turns them back.
at::Tensor OrEmpty(const at::Tensor& t) { return t.defined() ? t : at::empty({0}); }
LayerContext Context(const at::Tensor& bias, const at::Tensor& cos, const at::Tensor& sin, const c10::List<bool>& defined) {
  auto back = [](const at::Tensor& t, bool d) { return d ? t : at::Tensor(); };
  return {back(bias, defined[0]), back(cos, defined[1]), back(sin, defined[2])};
}

class RecomputedLayer : public torch::autograd::Function<RecomputedLayer> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& bias, const at::Tensor& cos,
                            const at::Tensor& sin, Model* model, int64_t index, c10::List<bool> defined) {
    ctx->save_for_backward({hidden, bias, cos, sin});
    ctx->saved_data["defined"] = defined;
    // The model outlives the graph it builds; saved_data holds IValues, so its address as one.
    ctx->saved_data["model"] = reinterpret_cast<int64_t>(model);
    ctx->saved_data["index"] = index;
    at::Generator gen = at::globalContext().defaultGenerator(hidden.device());
    ctx->saved_data["rng"] = gen.get_state();
    at::NoGradGuard no_grad;
    return model->Layer(index, hidden, Context(bias, cos, sin, defined));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    Model* model = reinterpret_cast<Model*>(ctx->saved_data["model"].toInt());
    const int64_t index = ctx->saved_data["index"].toInt();
    at::Tensor hidden = saved[0].detach().requires_grad_(true);
    at::Generator gen = at::globalContext().defaultGenerator(hidden.device());
    const at::Tensor now = gen.get_state();
    gen.set_state(ctx->saved_data["rng"].toTensor());  // the forward's dropout masks again
    at::Tensor out;
    {
      at::AutoGradMode grad(true);
      out = model->Layer(index, hidden, Context(saved[1], saved[2], saved[3], ctx->saved_data["defined"].toBoolList()));
    }
    gen.set_state(now);
    torch::autograd::backward({out}, {grad_outputs[0]});  // the layer's parameters get their gradients
    return {hidden.grad(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor CheckpointedLayer(Model& model, int64_t index, const at::Tensor& hidden, const LayerContext& context) {
  const c10::List<bool> defined({context.attention_bias.defined(), context.cos.defined(), context.sin.defined()});
  return RecomputedLayer::apply(hidden, OrEmpty(context.attention_bias), OrEmpty(context.cos), OrEmpty(context.sin), &model,
                                index, defined);
}

}  // namespace trainrt::trainer
