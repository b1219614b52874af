// The people-online list (#people) and its count. Names go in through
// textContent only.

// A "Message" button opening a direct conversation: the page's own form (with
// its CSRF token), cloned per person, so it works as a plain POST.
function directForm(template, user) {
  const form = template.content.firstElementChild.cloneNode(true);
  form.querySelector('input[name="user"]').value = String(user.id);
  form.querySelector('button').setAttribute('aria-label', `Message ${user.name}`);
  return form;
}

function buildPerson(user, own, template) {
  const li = document.createElement('li');
  li.dataset.userId = String(user.id);
  const name = document.createElement('span');
  name.className = 'person-name';
  name.textContent = user.name;
  li.append(name);
  if (own) {
    const you = document.createElement('span');
    you.className = 'person-you';
    you.textContent = ' (you)';
    li.append(you);
  } else if (template) {
    li.append(directForm(template, user));
  }
  return li;
}

export class PeopleList {
  #list;
  #count;
  #isOwn;
  #directForm;
  #byId = new Map(); // id (string) -> <li>

  constructor(list, count, { isOwn, directForm = null }) {
    this.#list = list;
    this.#count = count;
    this.#isOwn = isOwn;
    this.#directForm = directForm;
  }

  add(user) {
    if (!user || user.id === undefined || user.id === null) return;
    const key = String(user.id);
    const existing = this.#byId.get(key);
    if (existing) existing.remove(); // re-insert: the name may have changed
    const li = buildPerson(user, this.#isOwn(user), this.#directForm);
    // Keep the list alphabetical so it does not jump around as people come and go.
    const name = String(user.name || '');
    const before = Array.from(this.#list.children).find((other) => {
      const otherName = other.querySelector('.person-name').textContent;
      return otherName.localeCompare(name, undefined, { sensitivity: 'base' }) > 0;
    });
    this.#list.insertBefore(li, before || null);
    this.#byId.set(key, li);
    this.#updateCount();
  }

  remove(user) {
    if (!user) return;
    const key = String(user.id);
    const li = this.#byId.get(key);
    if (li) {
      li.remove();
      this.#byId.delete(key);
      this.#updateCount();
    }
  }

  replace(users) {
    this.#list.replaceChildren();
    this.#byId.clear();
    for (const user of users || []) this.add(user);
    this.#updateCount();
  }

  #updateCount() {
    this.#count.textContent = `(${this.#byId.size})`;
  }
}
