// Names offered while typing whom to message: a <datalist> of the people
// whose handle or name begins with what is typed (the people endpoint). The
// browser's own suggestion list does the keyboard and screen-reader work.

const FETCH_DELAY_MS = 150;

export class PeopleSuggestions {
  #input;
  #list;
  #url;
  #timer = null;
  #asked = '';

  constructor(input, list, url) {
    this.#input = input;
    this.#list = list;
    this.#url = url;
  }

  start() {
    this.#input.addEventListener('input', () => {
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#lookUp(), FETCH_DELAY_MS);
    });
  }

  async #lookUp() {
    const typed = this.#input.value.trim().replace(/^@/, '');
    if (!typed || typed === this.#asked) return;
    this.#asked = typed;
    const url = new URL(this.#url, window.location.origin);
    url.searchParams.set('q', typed);
    let people = [];
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (response.ok) people = (await response.json()).people || [];
    } catch {
      return; // offline: the box still takes a handle typed in full
    }
    if (typed !== this.#asked) return; // an older answer
    this.#list.replaceChildren(
      ...people.map((person) => {
        const option = document.createElement('option');
        option.value = person.handle;
        option.label = person.name;
        return option;
      }),
    );
  }
}
