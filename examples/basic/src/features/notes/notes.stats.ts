/** Word statistics of a text, as the `notes.wordStats` job computes them. */
export interface WordStats {
  words: number;
  uniqueWords: number;
  characters: number;
  /** At 200 words a minute, rounded up. */
  readingSeconds: number;
}

export function wordStats(text: string): WordStats {
  const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  return {
    words: words.length,
    uniqueWords: new Set(words).size,
    characters: [...text].length,
    readingSeconds: Math.ceil((words.length / 200) * 60),
  };
}
