// Copy a result's citation (with a link to the paragraph) to the clipboard.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const text = `${button.dataset.citation} ${new URL(button.dataset.url, location.href).href}`;
  const note = button.parentElement.querySelector(".copied");
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    note.textContent = "已复制";
  } catch (err) {
    note.textContent = "复制失败，请手动选择引用文字";
  }
  setTimeout(() => { note.textContent = ""; }, 2500);
});
