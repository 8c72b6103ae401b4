package org.intedge.demo;

import android.os.Bundle;
import android.widget.Button;
import android.widget.EditText;
import android.widget.TextView;
import java.util.HashMap;
import java.util.Map;
import org.intedge.Tensor;
import org.intedge.TensorInfo;
import org.intedge.demo.core.BertTokenizer;
import org.intedge.demo.core.Encoding;
import org.intedge.demo.core.SentenceEmbedding;

/**
 * Similarity: two sentences → the app's WordPiece tokenizer → the bundled MiniLM → sentence embeddings →
 * their cosine.
 */
public final class SimilarityActivity extends ModelActivity {
  /** Inferences per sentence: the two sentences fill the latency window. */
  private static final int RUNS = Benchmark.WINDOW / 2;

  /** Worker thread only, as the session. */
  private BertTokenizer tokenizer;
  private EditText first;
  private EditText second;
  private TextView stats;

  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    setContentView(R.layout.activity_similarity);
    first = findViewById(R.id.first);
    second = findViewById(R.id.second);
    result = findViewById(R.id.result);
    stats = findViewById(R.id.stats);
    Button compare = findViewById(R.id.compare);
    result.setText(getString(R.string.loading_model, Models.SENTENCE_ENCODER));
    onWorker(() -> {
      tokenizer = new BertTokenizer(Models.vocabulary(this));
      useSession(Models.openAsset(this, Models.SENTENCE_ENCODER));
      runOnUiThread(() -> {
        compare.setEnabled(true);
        result.setText(null);
      });
    });
    compare.setOnClickListener(v -> {
      String a = first.getText().toString();
      String b = second.getText().toString();
      result.setText(R.string.running);
      onWorker(() -> {
        double cosine = SentenceEmbedding.cosine(embed(a), embed(b));
        String line = benchmark.statsLine(session);
        runOnUiThread(() -> {
          result.setText(getString(R.string.cosine, cosine));
          stats.setText(line);
        });
      });
    });
  }

  /**
   * On the worker thread: sentence-transformers' embedding of {@code text}. The graph takes the zoo's
   * inputs (converters/zoo/minilm.py), input_ids and attention_mask padded to its sequence length, and
   * returns the masked sum of the hidden states, which SentenceEmbedding mean-pools and normalises.
   */
  private float[] embed(String text) throws Exception {
    int length = (int) session.inputs().get(0).shape()[1];
    Encoding encoding = tokenizer.encode(text, length);
    Map<String, Tensor> inputs = new HashMap<>();
    for (TensorInfo input : session.inputs()) {
      if (input.name().equals("input_ids")) {
        inputs.put(input.name(), TensorConversions.integers(input, encoding.ids()));
      } else if (input.name().equals("attention_mask")) {
        inputs.put(input.name(), TensorConversions.integers(input, encoding.attentionMask()));
      } else {
        throw new IllegalArgumentException("input " + input + " is not MiniLM's input_ids or attention_mask");
      }
    }
    Map<String, Tensor> outputs = benchmark.run(() -> session.run(inputs), RUNS);
    float[] maskedSum = TensorConversions.floats(outputs.values().iterator().next(), session.outputs().get(0));
    return SentenceEmbedding.fromMaskedSum(maskedSum, encoding.tokenCount());
  }
}
