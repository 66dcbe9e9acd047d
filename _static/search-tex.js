/* Search results without raw TeX (search page; harmless elsewhere).
 *
 * Sphinx's searchtools.js (7.4) builds each result's summary from the page's HTML text, where
 * math is still TeX (`\(\mathbf{h}^{(t)}\)`), and shows section titles as the index stores them
 * (`(b) Logistic regression, \hat{y} = \sigma(...)`). Summaries are cut at arbitrary places, so
 * typesetting them is not possible; instead the TeX becomes readable plain text: h⁽ᵗ⁾,
 * ŷ = σ(x⊤w + b), ∂J₂/∂U. `rnnbookTexToText` is the converter (tests call it too).
 */
(function () {
  const GREEK = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ",
    eta: "η", theta: "θ", vartheta: "ϑ", iota: "ι", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν",
    xi: "ξ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", upsilon: "υ", phi: "ϕ", varphi: "φ",
    chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Xi: "Ξ",
    Pi: "Π", Sigma: "Σ", Upsilon: "Υ", Phi: "Φ", Psi: "Ψ", Omega: "Ω",
  };
  const SYMBOLS = {
    partial: "∂", nabla: "∇", sum: "∑", prod: "∏", infty: "∞", cdot: "·", cdots: "⋯",
    ldots: "…", dots: "…", vdots: "⋮", times: "×", odot: "⊙", otimes: "⊗", oplus: "⊕",
    circ: "∘", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠", approx: "≈", sim: "∼",
    equiv: "≡", propto: "∝", to: "→", rightarrow: "→", Rightarrow: "⇒", leftarrow: "←",
    mapsto: "↦", in: "∈", notin: "∉", subset: "⊂", top: "⊤", intercal: "⊤", pm: "±", mp: "∓",
    forall: "∀", exists: "∃", cap: "∩", cup: "∪", ell: "ℓ", prime: "′", lVert: "‖",
    rVert: "‖", Vert: "‖", "|": "‖", lvert: "|", rvert: "|", vert: "|", mid: "|",
    langle: "⟨", rangle: "⟩", lfloor: "⌊", rfloor: "⌋", lceil: "⌈", rceil: "⌉",
    quad: " ", qquad: " ", ",": " ", ";": " ", ":": " ", " ": " ", "!": "",
    "{": "{", "}": "}", "_": "_", "%": "%", "#": "#", "&": "&", "$": "", "\\": "; ",
  };
  // commands shown as their own name (operators)
  const NAMES = new Set(["log", "ln", "exp", "tanh", "sinh", "cosh", "sin", "cos", "max", "min",
                         "arg", "argmax", "argmin", "det", "dim", "lim", "sup", "inf", "diag"]);
  // commands whose argument is shown plainly (fonts, text)
  const WRAP = new Set(["mathbf", "boldsymbol", "bm", "mathrm", "mathit", "mathsf", "mathtt",
                        "mathcal", "mathbb", "mathscr", "text", "textrm", "textbf", "textit",
                        "operatorname", "mbox", "hbox", "underline", "overline", "tag"]);
  // commands dropped with nothing in their place (sizes, spacing)
  const DROP = new Set(["left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl",
                        "Bigr", "displaystyle", "textstyle", "limits", "nolimits", "nonumber",
                        "notag", "label", "qquad", "hfill", "phantom", "mathstrut"]);
  const ACCENTS = {hat: "\u0302", widehat: "\u0302", tilde: "\u0303", widetilde: "\u0303",
                   bar: "\u0304", vec: "\u20d7", dot: "\u0307", ddot: "\u0308"};
  const SUP = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷",
               "8": "⁸", "9": "⁹", "+": "⁺", "-": "⁻", "−": "⁻", "=": "⁼", "(": "⁽", ")": "⁾",
               a: "ᵃ", b: "ᵇ", c: "ᶜ", d: "ᵈ", e: "ᵉ", f: "ᶠ", g: "ᵍ", h: "ʰ", i: "ⁱ", j: "ʲ",
               k: "ᵏ", l: "ˡ", m: "ᵐ", n: "ⁿ", o: "ᵒ", p: "ᵖ", r: "ʳ", s: "ˢ", t: "ᵗ", u: "ᵘ",
               v: "ᵛ", w: "ʷ", x: "ˣ", y: "ʸ", z: "ᶻ", A: "ᴬ", B: "ᴮ", D: "ᴰ", E: "ᴱ", G: "ᴳ",
               H: "ᴴ", I: "ᴵ", J: "ᴶ", K: "ᴷ", L: "ᴸ", M: "ᴹ", N: "ᴺ", O: "ᴼ", P: "ᴾ", R: "ᴿ",
               T: "ᵀ", U: "ᵁ", V: "ⱽ", W: "ᵂ", "⊤": "ᵀ", " ": "", "′": "′", "∗": "*", "*": "*"};
  const SUB = {"0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇",
               "8": "₈", "9": "₉", "+": "₊", "-": "₋", "−": "₋", "=": "₌", "(": "₍", ")": "₎",
               a: "ₐ", e: "ₑ", h: "ₕ", i: "ᵢ", j: "ⱼ", k: "ₖ", l: "ₗ", m: "ₘ", n: "ₙ", o: "ₒ",
               p: "ₚ", r: "ᵣ", s: "ₛ", t: "ₜ", u: "ᵤ", v: "ᵥ", x: "ₓ", " ": ""};

  function texToText(tex) {
    let i = 0;
    let inText = 0; // inside \text{...}: spaces are the text's own
    const n = tex.length;
    const wrap = (s) => ([...s].length > 1 && !/^\(.*\)$/.test(s) ? `(${s})` : s);
    const script = (s, table, mark) => {
      const chars = [...s];
      if (chars.length && chars.every((c) => c in table)) return chars.map((c) => table[c]).join("");
      return mark + wrap(s);
    };
    const skipSpaces = () => { while (i < n && /\s/.test(tex[i])) i++; };
    const group = () => { // after "{"
      let out = "";
      while (i < n && tex[i] !== "}") out += atom();
      i++;
      return out;
    };
    const arg = () => {
      skipSpaces();
      if (i >= n) return "";
      if (tex[i] === "{") { i++; return group(); }
      return atom();
    };
    const optional = () => { // [..] after a command, e.g. \sqrt[3]
      if (tex[i] !== "[") return "";
      const end = tex.indexOf("]", i);
      const out = end < 0 ? "" : tex.slice(i + 1, end);
      i = end < 0 ? n : end + 1;
      return out;
    };
    function atom() {
      const c = tex[i];
      if (c === "{") { i++; return group(); }
      if (c === "}") { i++; return ""; }
      if (c === "\\") {
        i++;
        const m = /^[A-Za-z]+/.exec(tex.slice(i));
        const name = m ? m[0] : (tex[i] || "");
        i += name.length;
        if (m) skipSpaces();
        if (/^(text|textrm|textbf|textit|mbox|hbox|operatorname)$/.test(name)) {
          inText++;
          const out = arg();
          inText--;
          return out;
        }
        if (WRAP.has(name)) return arg();
        if (name in ACCENTS) return arg() + ACCENTS[name];
        if (name === "frac" || name === "dfrac" || name === "tfrac") {
          const a = arg(), b = arg();
          return `${wrap(a)}/${wrap(b)}`;
        }
        if (name === "sqrt") { optional(); return "√" + wrap(arg()); }
        if (name === "begin" || name === "end") { arg(); return name === "end" ? "" : " "; }
        if (DROP.has(name)) return "";
        if (name in GREEK) return GREEK[name];
        if (name in SYMBOLS) return SYMBOLS[name];
        if (NAMES.has(name)) return name + " ";
        return name;
      }
      if (c === "^" || c === "_") {
        i++;
        const s = arg();
        return c === "^" ? script(s, SUP, "^") : script(s, SUB, "_");
      }
      if (c === "&" || c === "~") { i++; return " "; }
      i++;
      if (/\s/.test(c)) return inText ? " " : ""; // spaces in math source are not shown
      return c;
    }
    let out = "";
    while (i < n) out += atom();
    return out.normalize("NFC")
      .replace(/\s+([(){}\[\],;])/g, "$1")          // f (x) -> f(x)
      .replace(/\s*([=+±≤≥≈≠→↦∈×⇒]|:=|<|>)\s*/g, " $1 ") // spaced relations and operators
      .replace(/,(?=\S)/g, ", ")
      .replace(/\s+/g, " ").trim();
  }

  // TeX of one math element of Sphinx's HTML: \( ... \), \[ ... \], $$ ... $$, or bare.
  function mathText(text) {
    const t = text.trim().replace(/^\\\(|\\\)$/g, "").replace(/^\\\[|\\\]$/g, "")
        .replace(/^\$\$|\$\$$/g, "");
    return " " + texToText(t) + " ";
  }

  const LOOKS_LIKE_TEX = /\\[A-Za-z]|[_^]\{|\\[{}|,;]/;

  // Text mixing prose and bare TeX (a section title as the index stores it): each word that
  // looks like TeX is converted, the prose and its spaces stay.
  function textWithTex(text) {
    return text.split(/(\s+)/).map((w) => (LOOKS_LIKE_TEX.test(w) ? texToText(w) : w)).join("");
  }

  function patchSearch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search._rnnbookTex) return;
    const original = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((el) => { el.textContent = mathText(el.textContent); });
      return original(doc.documentElement.outerHTML, anchor);
    };
    Search._rnnbookTex = true;
    // result titles (from the index) and anything else added to the results list
    const results = () => document.getElementById("search-results");
    const clean = (root) => {
      root.querySelectorAll("a, span, p").forEach((el) => {
        for (const node of el.childNodes) {
          if (node.nodeType === 3 && LOOKS_LIKE_TEX.test(node.textContent)) {
            node.textContent = textWithTex(node.textContent);
          }
        }
      });
    };
    const watch = () => {
      const list = results();
      if (!list) return false;
      clean(list);
      new MutationObserver(() => clean(list)).observe(list, {childList: true, subtree: true});
      return true;
    };
    if (!watch()) document.addEventListener("DOMContentLoaded", watch);
  }

  window.rnnbookTexToText = texToText;
  patchSearch();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", patchSearch);
})();
